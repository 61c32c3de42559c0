import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthService } from '../../auth/auth.service.js';
import { Clock } from '../../common/clock.js';
import { DomainError } from '../../common/problem/domain-error.js';
import { RateLimited } from '../../common/rate-limit.js';
import { FeedHealthService } from '../../sources/feed-health.service.js';
import { textField } from '../form-input.js';
import { messages } from '../../i18n/messages.js';
import { type FieldProblem, seeOther } from '../pages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOverview } from './console-overview.service.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

/** The console's door: sign in and out, and the dashboard every staff member lands on. */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly auth: AuthService,
    private readonly feeds: FeedHealthService,
    private readonly overview: ConsoleOverview,
    private readonly clock: Clock,
  ) {}

  @Get('login')
  async loginForm(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const staff = await this.sessions.principal(req, reply);
    if (staff) return seeOther(reply, '/console/');
    await this.renderLogin(req, reply, '', []);
  }

  /** A wrong password answers 401 with the form again (DESIGN); a locked account 429, the email kept, never the password. */
  @Post('login')
  @RateLimited('login')
  async login(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    const email = textField(req.body, 'email', 254).toLowerCase();
    // As typed, as the API takes it: spaces at its ends are part of a password. One character over the
    // longest a password may be keeps the argon2 work bounded and can never match.
    const typed = (req.body as Record<string, unknown> | undefined)?.password;
    const password = typeof typed === 'string' ? typed.slice(0, 1025) : '';
    if (!email || !password) {
      const missing: FieldProblem[] = [{ field: email ? 'password' : 'email', message: t.loginMissing }];
      return this.renderLogin(req, reply, email, missing, 422);
    }
    try {
      const { accessToken, expiresIn } = await this.auth.login(email, password, req.ip);
      this.sessions.write(reply, accessToken, expiresIn);
      seeOther(reply, '/console/');
    } catch (error) {
      if (!(error instanceof DomainError) || (error.kind !== 'unauthorized' && error.kind !== 'rate_limited')) throw error;
      if (error.kind === 'rate_limited') void reply.header('Retry-After', String(error.options.retryAfterSeconds ?? 60));
      const message = error.kind === 'rate_limited' ? t.loginLocked : t.loginFailed;
      await this.renderLogin(req, reply, email, [{ field: 'email', message }], error.kind === 'rate_limited' ? 429 : 401);
    }
  }

  @Post('logout')
  logout(@Res() reply: FastifyReply): void {
    this.sessions.clear(reply);
    seeOther(reply, '/console/login');
  }

  @Get()
  @ConsoleOnly('specialist')
  async dashboard(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const staff = req.consoleStaff!;
    const t = messages(this.sessions.lang(req, reply)).console;
    const row = await this.overview.counts(staff);
    const counts = Object.entries(row)
      .filter(([, value]) => value !== null)
      .map(([key, value]) => ({ key, label: t.counts[key as keyof typeof t.counts], value }));
    await this.pages.render(req, reply, 'dashboard', { title: t.dashboardTitle, counts });
  }

  /** Every source, stale first and longest silent first: a silent jail is how releases go unannounced. */
  @Get('feeds')
  @ConsoleOnly('admin')
  async feedsPage(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    const now = this.clock.now().getTime();
    const silentMinutes = (at: string | null) => (at ? Math.max(0, Math.floor((now - Date.parse(at)) / 60_000)) : null);
    const feeds = (await this.feeds.list())
      .map((feed) => ({ ...feed, silentMinutes: silentMinutes(feed.lastContactAt) }))
      .sort((a, b) => Number(b.stale) - Number(a.stale) || (b.silentMinutes ?? Infinity) - (a.silentMinutes ?? Infinity));
    await this.pages.render(req, reply, 'feeds', { title: t.feedsTitle, feeds });
  }

  private async renderLogin(req: ConsoleRequest, reply: FastifyReply, email: string, errors: FieldProblem[], status = 200): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    await this.pages.render(req, reply, 'login', { title: t.loginTitle, email, errors }, status);
  }
}
