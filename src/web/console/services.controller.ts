import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { inputProblems, UuidParam } from '../../common/problem/input-rules.js';
import { displayServicePhone } from '../../common/service-phone.js';
import { toFieldErrors } from '../../common/problem/validation.js';
import { DirectoryService } from '../../directory/directory.service.js';
import { CreateServiceDto, SERVICE_LIMITS, type ServiceDto, UpdateServiceDto } from '../../directory/service.dto.js';
import { SERVICE_KIND_LABEL, SERVICE_KINDS, type ServiceKind } from '../../i18n/alerts.js';
import { messages } from '../../i18n/messages.js';
import { serviceFormatters } from '../service-formatters.js';
import { isTicked, malformedFields, textField } from '../form-input.js';
import { type FieldProblem, seeOther } from '../pages.js';
import { type ConsoleRequest, ConsolePages } from './console-pages.js';
import { ConsoleOnly } from './console.guard.js';
import { ConsoleSessions } from './console-session.js';

/** The form as typed, shown again with its mistakes. */
interface ServiceForm {
  name: string;
  kind: string;
  phone: string;
  website: string;
  languages: string;
  area: string;
  hours: string;
  descriptionEn: string;
  descriptionEs: string;
  public: boolean;
}

const EMPTY_FORM: ServiceForm = {
  name: '',
  kind: '',
  phone: '',
  website: '',
  languages: '',
  area: '',
  hours: '',
  descriptionEn: '',
  descriptionEs: '',
  public: false,
};

const NOTICES = ['created', 'saved', 'archived', 'restored'] as const;

/**
 * The services directory in the console: every staff member reads it (specialists share from it on
 * a victim's timeline); admins add, edit, archive and restore entries through the same service and
 * rules as the API, each change audited.
 */
@ApiExcludeController()
@Controller('console/services')
@ConsoleOnly('specialist')
export class ServicesPagesController {
  constructor(
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
    private readonly directory: DirectoryService,
  ) {}

  @Get()
  async list(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = this.sessions.lang(req, reply);
    const t = messages(lang).directory;
    const kindAsked = textField(req.query, 'kind', 40);
    const kind = (SERVICE_KINDS as readonly string[]).includes(kindAsked) ? (kindAsked as ServiceKind) : undefined;
    const q = textField(req.query, 'q', 100).replace(/\p{Cc}/gu, '');
    const archived = isTicked(req.query, 'archived');
    const services = await this.directory.list({ kind, q, includeArchived: archived });
    const done = textField(req.query, 'done', 20);
    await this.pages.render(req, reply, 'services', {
      title: t.title,
      services,
      filter: { kind: kind ?? '', q, archived },
      kinds: SERVICE_KINDS.map((value) => ({ value, label: SERVICE_KIND_LABEL[lang][value] })),
      kindLabel: SERVICE_KIND_LABEL[lang],
      ...serviceFormatters(lang),
      notice: (NOTICES as readonly string[]).includes(done) ? t[done as (typeof NOTICES)[number]] : undefined,
    });
  }

  @Get('new')
  @ConsoleOnly('admin')
  async newForm(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.renderForm(req, reply, undefined, EMPTY_FORM, []);
  }

  @Post()
  @ConsoleOnly('admin')
  async create(@Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = readForm(req.body);
    const { dto, problems } = await this.check(req, reply, CreateServiceDto, form);
    if (problems.length) return this.renderForm(req, reply, undefined, form, problems, 422);
    await this.directory.create(dto, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, '/console/services?done=created');
  }

  @Get(':id/edit')
  @ConsoleOnly('admin')
  async editForm(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const service = await this.directory.get(id);
    await this.renderForm(req, reply, service, formOf(service), []);
  }

  @Post(':id')
  @ConsoleOnly('admin')
  async update(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const service = await this.directory.get(id);
    const form = readForm(req.body);
    const { dto, problems } = await this.check(req, reply, UpdateServiceDto, form);
    if (problems.length) return this.renderForm(req, reply, service, form, problems, 422);
    await this.directory.update(id, dto, { staff: req.consoleStaff!, clientAddress: req.ip });
    seeOther(reply, '/console/services?done=saved');
  }

  @Post(':id/archive')
  @ConsoleOnly('admin')
  async archive(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.directory.update(id, plainToInstance(UpdateServiceDto, { archived: true }), {
      staff: req.consoleStaff!,
      clientAddress: req.ip,
    });
    seeOther(reply, '/console/services?done=archived&archived=on');
  }

  @Post(':id/restore')
  @ConsoleOnly('admin')
  async restore(@Param('id', UuidParam) id: string, @Req() req: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.directory.update(id, plainToInstance(UpdateServiceDto, { archived: false }), {
      staff: req.consoleStaff!,
      clientAddress: req.ip,
    });
    seeOther(reply, '/console/services?done=restored');
  }

  /**
   * The form as the API's body, judged by the API's own rules: a blank optional field is left out on
   * a new entry and cleared on an edit.
   */
  private async check<T extends CreateServiceDto | UpdateServiceDto>(
    req: ConsoleRequest,
    reply: FastifyReply,
    type: new () => T,
    form: ServiceForm,
  ): Promise<{ dto: T; problems: FieldProblem[] }> {
    const t = messages(this.sessions.lang(req, reply)).directory;
    const editing = type === (UpdateServiceDto as unknown);
    const blank = editing ? null : undefined;
    const languages = form.languages.split(/[\s,;]+/).filter(Boolean);
    const description =
      form.descriptionEn || form.descriptionEs
        ? { ...(form.descriptionEn ? { en: form.descriptionEn } : {}), ...(form.descriptionEs ? { es: form.descriptionEs } : {}) }
        : blank;
    const plain = {
      name: form.name,
      kind: form.kind,
      phone: form.phone || blank,
      website: form.website || blank,
      languages,
      area: form.area || blank,
      hours: form.hours || blank,
      description,
      public: form.public,
    };
    const dto = plainToInstance(type, plain);
    // A field sent twice or as anything but text is refused: read as blank, it would clear that field of the entry.
    const malformed = malformedFields(req.body, Object.keys(EMPTY_FORM)).map((path) => ({
      path: path === 'descriptionEs' ? 'description.es' : path,
    }));
    const found = [
      ...malformed,
      ...inputProblems(plain),
      ...toFieldErrors(await validate(dto, { whitelist: true, forbidNonWhitelisted: true })),
    ];
    const problems: FieldProblem[] = [];
    for (const { path } of found) {
      const field = path.startsWith('description.es')
        ? 'descriptionEs'
        : path.startsWith('description')
          ? 'descriptionEn'
          : path.split(/[.[]/)[0];
      // Nothing the form can send fails elsewhere; were it to, the entry is still refused, not saved.
      const known = field in t.errors ? (field as keyof typeof t.errors) : 'name';
      if (!problems.some((p) => p.field === known)) problems.push({ field: known, message: t.errors[known] });
    }
    // Shown in the order of the form, so the summary reads top to bottom.
    const order = Object.keys(t.errors);
    problems.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
    return { dto, problems };
  }

  private async renderForm(
    req: ConsoleRequest,
    reply: FastifyReply,
    service: ServiceDto | undefined,
    form: ServiceForm,
    errors: FieldProblem[],
    status = 200,
  ): Promise<void> {
    const lang = this.sessions.lang(req, reply);
    const t = messages(lang).directory;
    await this.pages.render(
      req,
      reply,
      'service-form',
      {
        title: service ? t.editTitle : t.newTitle,
        service,
        form,
        errors,
        limits: SERVICE_LIMITS,
        kinds: SERVICE_KINDS.map((value) => ({ value, label: SERVICE_KIND_LABEL[lang][value] })),
      },
      status,
    );
  }
}

/** Each field one string at most its limit plus one (so an over-long one is refused, not cut), a checkbox ticked or not. */
function readForm(body: unknown): ServiceForm {
  const field = (name: keyof ServiceForm, limit: number) => textField(body, name, limit + 1);
  return {
    name: field('name', SERVICE_LIMITS.name),
    kind: field('kind', 40),
    phone: field('phone', SERVICE_LIMITS.phone),
    website: field('website', SERVICE_LIMITS.website),
    languages: field('languages', 400),
    area: field('area', SERVICE_LIMITS.line),
    hours: field('hours', SERVICE_LIMITS.line),
    descriptionEn: field('descriptionEn', SERVICE_LIMITS.description),
    descriptionEs: field('descriptionEs', SERVICE_LIMITS.description),
    public: isTicked(body, 'public'),
  };
}

function formOf(service: ServiceDto): ServiceForm {
  return {
    name: service.name,
    kind: service.kind,
    phone: service.phone ? displayServicePhone(service.phone) : '',
    website: service.website ?? '',
    languages: service.languages.join(', '),
    area: service.area ?? '',
    hours: service.hours ?? '',
    descriptionEn: service.description.en ?? '',
    descriptionEs: service.description.es ?? '',
    public: service.public,
  };
}
