import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Clock } from '../../common/clock.js';
import { UuidParam } from '../../common/problem/input-rules.js';
import {
  type EscalationStatus,
  EscalationsService,
  RESOLUTION_NOTE_MAX,
  resolutionNoteProblem,
} from '../../delivery/escalations.service.js';
import { messages } from '../../i18n/messages.js';
import { textField } from '../form-input.js';
import { type FieldProblem, seeOther } from '../pages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

/**
 * The escalations inbox: urgent alerts nobody confirmed, open ones first and the longest waiting at
 * the top, each acknowledged and then resolved with a note. A specialist sees their enrollees'; an
 * admin all of them. Someone else's answers the same 404 as a missing one (the service's rule).
 */
@ApiExcludeController()
@Controller('console/escalations')
@ConsoleOnly('specialist')
export class EscalationsPagesController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly escalations: EscalationsService,
    private readonly clock: Clock,
  ) {}

  @Get()
  async inbox(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = req.query as Record<string, unknown>;
    const status: EscalationStatus = textField(query, 'status', 20) === 'resolved' ? 'resolved' : 'open';
    const done = textField(query, 'done', 20);
    await this.renderInbox(req, reply, status, { done: done === 'acknowledged' || done === 'resolved' ? done : undefined });
  }

  @Post(':id/acknowledge')
  async acknowledge(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.escalations.acknowledge(id, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, `/console/escalations?done=acknowledged#escalation-${id}`);
  }

  @Post(':id/resolve')
  async resolve(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.escalation;
    // One more than allowed is read, so a note cut short is refused rather than saved shorter than written.
    const note = textField(req.body, 'note', RESOLUTION_NOTE_MAX + 1);
    const problem = resolutionNoteProblem(note);
    if (problem) {
      // The escalation must be this staff member's before its form is shown again: someone else's is a 404.
      await this.escalations.get(id, req.consoleStaff!);
      const message = problem === 'missing' ? t.noteMissing : problem === 'too_long' ? t.noteTooLong(RESOLUTION_NOTE_MAX) : t.noteControls;
      const field = `note-${id}`;
      return this.renderInbox(req, reply, 'open', { errors: [{ field, message }], notes: { [id]: note } }, 422);
    }
    await this.escalations.resolve(id, note, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, '/console/escalations?done=resolved');
  }

  private async renderInbox(
    req: ConsoleRequest,
    reply: FastifyReply,
    status: EscalationStatus,
    extra: { done?: string; errors?: FieldProblem[]; notes?: Record<string, string> },
    code = 200,
  ): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console;
    const now = this.clock.now().getTime();
    const escalations = (await this.escalations.list(status, { staff: req.consoleStaff!, clientAddress: req.ip })).map((escalation) => ({
      ...escalation,
      openMinutes: Math.max(
        0,
        Math.floor(((escalation.resolvedAt ? Date.parse(escalation.resolvedAt) : now) - Date.parse(escalation.escalatedAt)) / 60_000),
      ),
    }));
    await this.pages.render(
      req,
      reply,
      'escalations',
      { title: t.escalationsTitle, status, escalations, noteMax: RESOLUTION_NOTE_MAX, notes: {}, ...extra },
      code,
    );
  }
}
