import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimited } from '../common/rate-limit.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PeopleQueryDto } from '../people/people.dto.js';
import { PeopleService } from '../people/people.service.js';
import { DirectoryService } from '../directory/directory.service.js';
import { SERVICE_KIND_LABEL, SERVICE_KINDS, serviceDescription } from '../i18n/alerts.js';
import { serviceFormatters } from './service-formatters.js';
import { messages, type Lang } from '../i18n/messages.js';
import { textField } from './form-input.js';
import { langOf, preferredLang } from './page-paths.js';
import { type FieldProblem, Pages } from './pages.js';

const SEARCH_FIELDS = ['identifierSystem', 'identifier', 'lastName', 'firstName', 'dateOfBirth'] as const;
type SearchForm = Record<(typeof SEARCH_FIELDS)[number], string>;

/** `GET /`: the victim's language from the browser, English otherwise. */
@ApiExcludeController()
@Controller()
export class LanguageRedirectController {
  constructor(private readonly pages: Pages) {}

  @Get()
  root(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    void reply.header('vary', 'Accept-Language');
    this.pages.redirect(reply, `/${preferredLang(req.headers['accept-language'])}/`);
  }
}

/** Search, results and help: the pages a victim reaches first. */
@ApiExcludeController()
@Controller(['en', 'es'])
export class PortalController {
  constructor(
    private readonly pages: Pages,
    private readonly people: PeopleService,
    private readonly directory: DirectoryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async home(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    await this.renderSearchForm(req, reply, lang, emptySearch(), []);
  }

  @Get('search')
  @RateLimited('public')
  async search(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    const t = messages(lang).search;
    const form = Object.fromEntries(SEARCH_FIELDS.map((name) => [name, textField(req.query, name, 200)])) as SearchForm;
    // The identifier, when given, is the precise search; otherwise the names.
    const query: Partial<SearchForm> = form.identifier
      ? { identifierSystem: form.identifierSystem, identifier: form.identifier }
      : { lastName: form.lastName, firstName: form.firstName, ...(form.dateOfBirth ? { dateOfBirth: form.dateOfBirth } : {}) };
    const problems: FieldProblem[] = [];
    const refuse = (field: keyof typeof t.errors) => {
      const at = field === 'criteria' ? 'identifier' : field;
      if (!problems.some((p) => p.field === at)) problems.push({ field: at, message: t.errors[field] });
    };
    if (!form.identifier && !form.lastName && !form.firstName) refuse('criteria');
    else {
      if (!form.identifier && !form.lastName) refuse('lastName');
      if (!form.identifier && !form.firstName) refuse('firstName');
      for (const error of await validate(plainToInstance(PeopleQueryDto, query), { forbidUnknownValues: false })) {
        if (error.property in t.errors) refuse(error.property as keyof typeof t.errors);
      }
    }
    if (problems.length) return this.renderSearchForm(req, reply, lang, form, problems, 422);
    const people = await this.people.search(plainToInstance(PeopleQueryDto, query));
    await this.pages.render(req, reply, lang, 'results', { title: t.resultsTitle, people });
  }

  @Get('help')
  async help(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const lang = langOf(req);
    // The directory's public, active entries, grouped by kind in the directory's order; each description in the page's language when given.
    const listed = await this.directory.list({ publicOnly: true });
    const services = SERVICE_KINDS.map((kind) => ({
      kind,
      label: SERVICE_KIND_LABEL[lang][kind],
      entries: listed.filter((s) => s.kind === kind).map((s) => ({ ...s, about: serviceDescription(s, lang) })),
    })).filter((group) => group.entries.length);
    await this.pages.render(req, reply, lang, 'help', { title: messages(lang).help.title, services, ...serviceFormatters(lang) });
  }

  private async renderSearchForm(
    req: FastifyRequest,
    reply: FastifyReply,
    lang: Lang,
    form: SearchForm,
    errors: FieldProblem[],
    status = 200,
  ): Promise<void> {
    const t = messages(lang).search;
    const systems = [...new Set([...this.config.globalIdentifierSystems, ...Object.keys(t.identifierSystems)])];
    const identifierSystems = systems.map((value) => ({ value, label: t.identifierSystems[value] ?? value.replaceAll('_', ' ') }));
    await this.pages.render(req, reply, lang, 'home', { title: t.title, form, errors, identifierSystems }, status);
  }
}

function emptySearch(): SearchForm {
  return { identifierSystem: 'A_NUMBER', identifier: '', lastName: '', firstName: '', dateOfBirth: '' };
}
