import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimited } from '../common/rate-limit.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PeopleService } from '../people/people.service.js';
import { DirectoryService } from '../directory/directory.service.js';
import { SERVICE_KIND_LABEL, SERVICE_KINDS, serviceDescription } from '../i18n/alerts.js';
import { serviceFormatters } from './service-formatters.js';
import { messages, type Lang } from '../i18n/messages.js';
import { emptySearch, identifierSystemOptions, readPersonSearch, type SearchForm } from './person-search.js';
import { langOf, preferredLang } from './page-paths.js';
import { type FieldProblem, Pages } from './pages.js';

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
    const { form, query, problems } = await readPersonSearch(req.query, t);
    if (problems.length) return this.renderSearchForm(req, reply, lang, form, problems, 422);
    const people = await this.people.search(query);
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
    const identifierSystems = identifierSystemOptions(this.config, t);
    await this.pages.render(req, reply, lang, 'home', { title: t.title, form, errors, identifierSystems }, status);
  }
}
