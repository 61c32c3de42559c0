import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { DomainError } from '../../common/problem/domain-error.js';
import { UuidParam } from '../../common/problem/input-rules.js';
import { CreateSourceDto } from '../../sources/source.dto.js';
import { SourcesService } from '../../sources/sources.service.js';
import { isTicked, malformedFields, textField } from '../form-input.js';
import { messages } from '../../i18n/messages.js';
import { type FieldProblem, seeOther } from '../pages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

interface SourceForm {
  name: string;
  facilityCodes: string;
  signingRequired: boolean;
  expectedIntervalMinutes: string;
}

const EMPTY_FORM: SourceForm = { name: '', facilityCodes: '', signingRequired: true, expectedIntervalMinutes: '60' };

/**
 * Sources and their keys. A new key or secret is shown once, on the page that answers the POST
 * (never in a redirect's address, never again): the page says so.
 */
@ApiExcludeController()
@Controller('console/sources')
@ConsoleOnly('admin')
export class SourcesPagesController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly sources: SourcesService,
  ) {}

  @Get()
  async list(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.renderList(req, reply, EMPTY_FORM, []);
  }

  @Post()
  async create(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.sources;
    const form: SourceForm = {
      name: textField(req.body, 'name', 300),
      facilityCodes: textField(req.body, 'facilityCodes', 20_000),
      signingRequired: isTicked(req.body, 'signingRequired'),
      expectedIntervalMinutes: textField(req.body, 'expectedIntervalMinutes', 20),
    };
    const minutes = form.expectedIntervalMinutes === '' ? undefined : Number(form.expectedIntervalMinutes);
    const codes = form.facilityCodes
      .split(/[\s,]+/)
      .map((code) => code.trim())
      .filter(Boolean);
    const dto = plainToInstance(CreateSourceDto, {
      name: form.name,
      signingRequired: form.signingRequired,
      ...(codes.length ? { facilityCodes: codes } : {}),
      ...(minutes === undefined ? {} : { expectedIntervalSeconds: Number.isInteger(minutes) ? minutes * 60 : Number.NaN }),
    });
    // A field sent twice or as anything but text is refused: read as blank, it would allow every facility or drop signing.
    const problems: FieldProblem[] = malformedFields(req.body, Object.keys(EMPTY_FORM)).map((field) => ({
      field,
      message: t.errors[field as keyof typeof t.errors],
    }));
    for (const error of await validate(dto, { forbidUnknownValues: false })) {
      const field = error.property === 'expectedIntervalSeconds' ? 'expectedIntervalMinutes' : error.property;
      const message = t.errors[field as keyof typeof t.errors];
      if (message && !problems.some((p) => p.field === field)) problems.push({ field, message });
    }
    if (problems.length) return this.renderList(req, reply, form, problems, 422);
    const created = await this.sources.create(dto, { staff: req.consoleStaff!, clientAddress: req.ip });
    await this.pages.render(req, reply, 'secret', {
      title: t.createdTitle,
      name: form.name,
      apiKey: created.apiKey,
      signingSecret: created.signingSecret,
    });
  }

  @Post(':id/keys')
  async addKey(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.sources;
    const created = await this.sources.addKey(id, { staff: req.consoleStaff!, clientAddress: req.ip });
    await this.pages.render(req, reply, 'secret', { title: t.keyTitle, apiKey: created.apiKey });
  }

  @Post(':id/keys/:keyId/revoke')
  async revoke(
    @Param('id', UuidParam) id: string,
    @Param('keyId', UuidParam) keyId: string,
    @Req() req: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    try {
      await this.sources.revokeKey(id, keyId, { staff: req.consoleStaff!, clientAddress: req.ip });
    } catch (error) {
      // Revoking a source's last key would cut a jail off at once: say so on the page, change nothing.
      if (!(error instanceof DomainError) || error.code !== 'SOURCE_KEY_LAST') throw error;
      const t = messages(this.sessions.lang(req, reply)).console.sources;
      return this.renderList(req, reply, EMPTY_FORM, [], 409, t.lastKey);
    }
    seeOther(reply, '/console/sources?revoked=1');
  }

  private async renderList(
    req: ConsoleRequest,
    reply: FastifyReply,
    form: SourceForm,
    errors: FieldProblem[],
    status = 200,
    refusal?: string,
  ): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.sources;
    const revoked = (req.query as Record<string, unknown>).revoked === '1';
    const sources = await this.sources.list();
    await this.pages.render(req, reply, 'sources', { title: t.title, sources, form, errors, revoked, refusal }, status);
  }
}
