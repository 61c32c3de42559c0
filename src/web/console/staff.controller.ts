import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { NewStaffDto } from '../../auth/staff.dto.js';
import { StaffService } from '../../auth/staff.service.js';
import { STAFF_ROLES } from '../../auth/staff-role.js';
import { DomainError } from '../../common/problem/domain-error.js';
import { UuidParam } from '../../common/problem/input-rules.js';
import { messages } from '../../i18n/messages.js';
import { type FieldProblem, seeOther } from '../pages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

interface StaffForm {
  email: string;
  role: string;
}

const EMPTY_FORM: StaffForm = { email: '', role: 'specialist' };
const REFUSALS = ['STAFF_SELF_DISABLE', 'STAFF_LAST_ADMIN'];

/**
 * Staff accounts. Vigil makes every password (a new account's and a reset's) and shows it once, on
 * the page that answers the POST, never in a redirect's address and never again: the admin never
 * picks a weak one, and the form never carries one.
 */
@ApiExcludeController()
@Controller('console/staff')
@ConsoleOnly('admin')
export class StaffPagesController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly staff: StaffService,
  ) {}

  @Get()
  async list(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.renderList(req, reply, EMPTY_FORM, []);
  }

  @Post()
  async create(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.staff;
    const body = req.body as Record<string, unknown> | undefined;
    // A field sent twice, or as anything but text, is a mistake to show, never something to guess at.
    const raw = (name: keyof StaffForm) => (typeof body?.[name] === 'string' ? body[name] : undefined);
    const form: StaffForm = { email: (raw('email') ?? '').slice(0, 255).trim(), role: (raw('role') ?? '').slice(0, 20) };
    const problems: FieldProblem[] = [];
    const dto = plainToInstance(NewStaffDto, form);
    for (const error of await validate(dto, { forbidUnknownValues: false })) {
      const field = error.property as keyof typeof t.errors;
      if (field in t.errors && !problems.some((p) => p.field === field)) problems.push({ field, message: t.errors[field] });
    }
    if (problems.length) {
      // A role that is not one shows the least-privileged one again, never the list's first (admin).
      const role = (STAFF_ROLES as readonly string[]).includes(form.role) ? form.role : 'specialist';
      return this.renderList(req, reply, { ...form, role }, problems, 422);
    }
    try {
      const created = await this.staff.createWithTemporaryPassword(dto.email, dto.role, {
        staff: req.consoleStaff!,
        clientAddress: req.ip,
      });
      await this.pages.render(req, reply, 'staff-password', {
        title: t.createdTitle,
        email: created.staff.email,
        password: created.temporaryPassword,
      });
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'STAFF_EMAIL_TAKEN') throw error;
      return this.renderList(req, reply, form, [{ field: 'email', message: t.errors.taken }], 409);
    }
  }

  @Post(':id/disable')
  async disable(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.setDisabled(id, true, req, reply);
  }

  @Post(':id/enable')
  async enable(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.setDisabled(id, false, req, reply);
  }

  @Post(':id/password')
  async resetPassword(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.staff;
    const reset = await this.staff.resetPassword(id, { staff: req.consoleStaff!, clientAddress: req.ip });
    await this.pages.render(req, reply, 'staff-password', {
      title: t.resetTitle,
      email: reset.email,
      password: reset.temporaryPassword,
      reset: true,
    });
  }

  private async setDisabled(id: string, disabled: boolean, req: ConsoleRequest, reply: FastifyReply): Promise<void> {
    try {
      await this.staff.setDisabled(id, disabled, { staff: req.consoleStaff!, clientAddress: req.ip });
    } catch (error) {
      // Nobody could undo a console with no admin left: say so on the page, change nothing.
      if (!(error instanceof DomainError) || !REFUSALS.includes(error.code)) throw error;
      const t = messages(this.sessions.lang(req, reply)).console.staff;
      return this.renderList(req, reply, EMPTY_FORM, [], 409, error.code === 'STAFF_SELF_DISABLE' ? t.selfDisable : t.lastAdmin);
    }
    seeOther(reply, `/console/staff?done=${disabled ? 'disabled' : 'enabled'}`);
  }

  private async renderList(
    req: ConsoleRequest,
    reply: FastifyReply,
    form: StaffForm,
    errors: FieldProblem[],
    status = 200,
    refusal?: string,
  ): Promise<void> {
    const t = messages(this.sessions.lang(req, reply)).console.staff;
    const done = (req.query as Record<string, unknown>).done;
    await this.pages.render(
      req,
      reply,
      'staff',
      {
        title: t.title,
        members: await this.staff.list(),
        roles: STAFF_ROLES,
        form,
        errors,
        refusal,
        done: done === 'disabled' || done === 'enabled' ? done : undefined,
      },
      status,
    );
  }
}
