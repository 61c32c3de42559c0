import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { UuidParam } from '../../common/problem/input-rules.js';
import { LedgerService } from '../../delivery/ledger.service.js';
import { RosterService } from '../../ingestion/roster.service.js';
import { seeOther } from '../pages.js';
import { messages } from '../../i18n/messages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

/** An admin's queue of decisions: roster changes held before they alert anyone, and messages that died. */
@ApiExcludeController()
@Controller('console')
@ConsoleOnly('admin')
export class OperationsController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly rosters: RosterService,
    private readonly ledger: LedgerService,
  ) {}

  /** Each held diff with the people it would release: a maintenance run looks like a mass release. */
  @Get('rosters')
  async held(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    const done = (req.query as Record<string, unknown>).done;
    await this.pages.render(req, reply, 'rosters', {
      title: t.rostersTitle,
      snapshots: await this.rosters.list('held'),
      done: done === 'approved' || done === 'discarded' ? done : undefined,
    });
  }

  @Post('rosters/:id/approve')
  async approve(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.rosters.approve(id, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, '/console/rosters?done=approved');
  }

  @Post('rosters/:id/discard')
  async discard(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.rosters.discard(id, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, '/console/rosters?done=discarded');
  }

  @Get('deliveries')
  async dead(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    const retried = (req.query as Record<string, unknown>).retried === '1';
    await this.pages.render(req, reply, 'deliveries', { title: t.deadTitle, deliveries: await this.ledger.dead(), retried });
  }

  @Post('deliveries/:id/retry')
  async retry(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.ledger.retryDead(id, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, '/console/deliveries?retried=1');
  }
}
