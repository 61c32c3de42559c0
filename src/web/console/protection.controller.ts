import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { UuidParam } from '../../common/problem/input-rules.js';
import { PeopleService } from '../../people/people.service.js';
import { FacilitiesService } from '../../sources/facilities.service.js';
import { textField } from '../form-input.js';
import { messages } from '../../i18n/messages.js';
import { type FieldProblem, seeOther } from '../pages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

const FACILITY_CODE = /^[A-Za-z0-9._-]{1,32}$/;
const IDENTIFIER_SYSTEM = /^[A-Z][A-Z0-9_]{1,31}$/;
const REASON_MAX = 500;

/**
 * The two switches that stop alerts on purpose: a facility under maintenance (suppression) and a
 * person who must not be found or notified about (protection). Each change needs a reason and
 * keeps its history.
 */
@ApiExcludeController()
@Controller('console')
@ConsoleOnly('admin')
export class ProtectionController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly facilities: FacilitiesService,
    private readonly people: PeopleService,
  ) {}

  @Get('facilities')
  async facilitiesPage(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.renderFacilities(req, reply, []);
  }

  @Post('facilities/:code/suppression')
  async suppress(@Param('code') code: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.protection;
    const suppressed = choice(req.body, 'suppressed');
    const reason = textField(req.body, 'reason', REASON_MAX + 1);
    if (!FACILITY_CODE.test(code)) return this.renderFacilities(req, reply, [{ field: 'reason', message: t.badCode }], 422);
    if (suppressed === undefined) {
      return this.renderFacilities(req, reply, [{ field: `reason-${code.toUpperCase()}`, message: t.badChoice }], 422);
    }
    if (!reason || reason.length > REASON_MAX || /\p{Cc}/u.test(reason)) {
      return this.renderFacilities(req, reply, [{ field: `reason-${code.toUpperCase()}`, message: t.reasonNeeded }], 422);
    }
    await this.facilities.setSuppression(code.toUpperCase(), suppressed, reason, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, '/console/facilities');
  }

  @Get('people')
  async peoplePage(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.renderPeople(req, reply, req.query, []);
  }

  @Post('people/:id/protection')
  async protect(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.protection;
    const isProtected = choice(req.body, 'protected');
    const reason = textField(req.body, 'reason', REASON_MAX + 1);
    // The form carries the search it came from, so a mistake sends back the same person with the reason field to fix.
    if (isProtected === undefined) return this.renderPeople(req, reply, req.body, [{ field: `reason-${id}`, message: t.badChoice }]);
    if (!reason || reason.length > REASON_MAX || /\p{Cc}/u.test(reason)) {
      return this.renderPeople(req, reply, req.body, [{ field: `reason-${id}`, message: t.reasonNeeded }]);
    }
    await this.people.setProtection(id, isProtected, reason, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, '/console/people?done=1');
  }

  private async renderPeople(req: ConsoleRequest, reply: FastifyReply, source: unknown, problems: FieldProblem[]): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.protection;
    const identifierSystem = textField(source, 'identifierSystem', 40).toUpperCase() || 'A_NUMBER';
    const identifier = textField(source, 'identifier', 80);
    const errors = [...problems];
    let found: Awaited<ReturnType<PeopleService['findForStaff']>> | undefined;
    if (identifier) {
      if (!IDENTIFIER_SYSTEM.test(identifierSystem)) errors.push({ field: 'identifierSystem', message: t.badSystem });
      else if (identifier.length > 64 || /\p{Cc}/u.test(identifier)) errors.push({ field: 'identifier', message: t.badIdentifier });
      else found = await this.people.findForStaff(identifierSystem, identifier, { staff: req.consoleStaff!, clientAddress: req.ip });
    }
    const people = await Promise.all(
      (found ?? []).map(async (person) => ({ ...person, history: await this.people.protectionHistory(person.personId) })),
    );
    await this.pages.render(
      req,
      reply,
      'people',
      { title: t.peopleTitle, form: { identifierSystem, identifier }, people, searched: found !== undefined, errors },
      errors.length ? 422 : 200,
    );
  }

  private async renderFacilities(req: ConsoleRequest, reply: FastifyReply, errors: FieldProblem[], status = 200): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.protection;
    const [facilities, history] = await Promise.all([this.facilities.list(), this.facilities.suppressionHistory()]);
    await this.pages.render(req, reply, 'facilities', { title: t.facilitiesTitle, facilities, history, errors }, status);
  }
}

/** The form's hidden on/off field; anything but the two values it sends would silently lift a protection or suppression. */
function choice(body: unknown, name: string): boolean | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return value === 'true' ? true : value === 'false' ? false : undefined;
}
