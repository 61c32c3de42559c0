import querystring from 'node:querystring';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { HttpException } from '@nestjs/common';
import { type FastifyError, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { buildApiDocument } from './common/api-document.js';
import { bodyHooks, DEFAULT_BODY_LIMIT, largeBodyLimit, registerBodyParsers } from './common/body-parsing.js';
import { createRootLogger, logRequests, NestPinoLogger } from './common/logging.js';
import { ProblemDetailsFilter } from './common/problem/problem-details.filter.js';
import { answerClientError } from './common/problem/problem.js';
import { InputRulesPipe } from './common/problem/input-rules.js';
import { createValidationPipe } from './common/problem/validation.js';
import type { AppConfig } from './config/app-config.js';
import { sourceKeyBeforeBody } from './sources/source-key.js';
import { SourcesService } from './sources/sources.service.js';
import { ConsolePages } from './web/console/console-pages.js';
import { errorPageRenderer } from './web/error-pages.js';
import { isPagePath } from './web/page-paths.js';
import { Pages } from './web/pages.js';
import { pageHeaders, pageRouteHooks, setupWeb } from './web/web-setup.js';

const REQUEST_TIMEOUT_MS = 300_000;

/** The one way an app is built, for `npm start` and for every test, so tests see what users see. */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  const logger = createRootLogger(config, options.logDestination);
  const problems = new ProblemDetailsFilter();
  const servesPages = config.role !== 'worker';
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // Fastify's own request lines are two per request; `logRequests` writes one.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Fastify turns Node's request timeout off; a body dripped a byte a minute (a public form, a slow
    // roster) would then hold its connection and buffer for ever. Node's own default is kept, long
    // enough for the largest roster on a slow link.
    requestTimeout: REQUEST_TIMEOUT_MS,
    trustProxy: trustProxy(config.trustProxy),
    routerOptions: {
      // node:querystring, as Express's 'simple' parser was: flat keys, a repeated key becomes an array.
      querystringParser: (query) => querystring.parse(query),
      // Paths match as they did on Express: any letter case, with or without a trailing slash, and
      // a long parameter reaches validation (422) instead of the router's 414.
      caseSensitive: false,
      ignoreTrailingSlash: true,
      maxParamLength: 16 * 1024,
    },
    clientErrorHandler: answerClientError,
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) =>
      answerRouterError(problems, servesPages, error, req, reply),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options), adapter, {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(new NestPinoLogger(logger));

  const fastify = app.getHttpAdapter().getInstance();
  logRequests(fastify, logger);
  registerBodyParsers(fastify);
  // Big bodies only for a source whose key checks out (the signature needs the body: the guard checks it).
  const keyFirst =
    config.role === 'worker' ? undefined : sourceKeyBeforeBody(app.get(SourcesService), (e, req, reply) => problems.respond(e, req, reply));
  if (servesPages) {
    await setupWeb(app, config);
    fastify.addHook('onRequest', pageHeaders);
    problems.renderPagesWith(isPagePath, errorPageRenderer(app.get(Pages), app.get(ConsolePages)));
  }
  fastify.addHook('onRoute', (route) => {
    bodyHooks(route);
    if (keyFirst && largeBodyLimit(route.url)) route.onRequest = [...[route.onRequest ?? []].flat(), keyFirst];
    if (servesPages) pageRouteHooks(fastify, route);
  });

  app.useGlobalFilters(problems);
  app.useGlobalPipes(new InputRulesPipe(), createValidationPipe());

  // Workers serve only health; the API description would be memory for nothing.
  if (config.role !== 'worker') setupDocs(app, config);
  return app;
}

/**
 * What the router refuses before any hook or route runs (a path whose percent-encoding does not
 * decode, a parameter past maxParamLength) gets the answer every other client mistake gets: a page,
 * with the page headers, under a page path; problem+json elsewhere. Fastify's own answer is bare JSON.
 */
function answerRouterError(
  problems: ProblemDetailsFilter,
  servesPages: boolean,
  error: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  if (servesPages && isPagePath(req.url)) {
    // Fastify hands this hook a bare reply, without the plugins' decorations; an error page has no form to protect.
    reply.viewAsync = (page: string, data?: object) => req.server.view(page, data);
    reply.generateCsrf = () => '';
    pageHeaders.call(req.server, req, reply, () => undefined);
  }
  problems.respond(new HttpException('The request address could not be read.', error.statusCode ?? 400), req, reply);
}

function setupDocs(app: NestFastifyApplication, config: AppConfig): void {
  SwaggerModule.setup('docs', app, buildApiDocument(app, config), { jsonDocumentUrl: 'docs-json' });
}

/** TRUST_PROXY as Express read it: a hop count trusts that many proxies in front of Vigil. */
function trustProxy(setting: AppConfig['trustProxy']): boolean | string | ((address: string, hop: number) => boolean) | undefined {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}
