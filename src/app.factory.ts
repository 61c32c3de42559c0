import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { bodyParserProblem, ProblemDetailsFilter } from './common/problem/problem-details.filter.js';
import { answerClientErrors, sendProblem } from './common/problem/problem.js';
import { InputRulesPipe } from './common/problem/input-rules.js';
import { createValidationPipe } from './common/problem/validation.js';
import type { AppConfig } from './config/app-config.js';
import { sourceKeyBeforeBody } from './sources/source-key.js';
import { SourcesService } from './sources/sources.service.js';

export type RequestWithRawBody = Request & { rawBody?: Buffer };

/** Body limits per route family (DESIGN: events 5 MB, rosters 50 MB); everything else 1 MB. */
const BODY_LIMITS: [path: string, limit: string][] = [
  ['/v1/custody-events', '5mb'],
  ['/v1/facilities', '50mb'],
];

/** The one way an app is built, for `npm start` and for every test, so tests see what users see. */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  answerClientErrors(app.getHttpServer());
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy);

  // Signatures (sources, Twilio) are computed over the exact bytes received.
  const keepRaw = (req: RequestWithRawBody, _res: Response, buffer: Buffer) => {
    req.rawBody = buffer;
  };
  const problems = new ProblemDetailsFilter();
  // Big bodies only for a source whose key checks out (the signature needs the body: the guard checks it).
  const keyFirst =
    config.role === 'worker' ? [] : [sourceKeyBeforeBody(app.get(SourcesService), (e, req, res) => problems.respond(e, req, res))];
  for (const [path, limit] of BODY_LIMITS) app.use(path, ...keyFirst, express.json({ limit, verify: keepRaw, type: jsonTypes }));
  app.use(express.json({ limit: '1mb', verify: keepRaw, type: jsonTypes }));
  for (const path of ['/v1/webhooks', '/v1/unsubscribe'])
    app.use(path, express.urlencoded({ extended: false, limit: '64kb', verify: keepRaw }));
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const body = bodyParserProblem(error);
    if (body) sendProblem(res, body);
    else next(error);
  });

  app.useGlobalFilters(problems);
  app.useGlobalPipes(new InputRulesPipe(), createValidationPipe());

  // Workers serve only health; the API description would be memory for nothing.
  if (config.role !== 'worker') setupDocs(app);
  return app;
}

function setupDocs(app: NestExpressApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Vigil')
      .setDescription('Custody status notification exchange: custody events in, victim alerts out.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'staff')
      .addBearerAuth({ type: 'http', scheme: 'bearer' }, 'source')
      .addBearerAuth({ type: 'http', scheme: 'bearer' }, 'manage-token')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

function jsonTypes(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  return type.startsWith('application/json') || /^application\/[\w.+-]+\+json/.test(type);
}
