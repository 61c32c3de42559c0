import type { IncomingMessage } from 'node:http';
import querystring from 'node:querystring';
import { Readable } from 'node:stream';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import {
  errorCodes,
  type FastifyBodyParser,
  type FastifyInstance,
  type FastifyRequest,
  type preParsingHookHandler,
  type RouteOptions,
} from 'fastify';

const KB = 1024;
const MB = 1024 * KB;

/** Body limits per route family (DESIGN: events 5 MB, rosters 50 MB); forms 64 KB; everything else 1 MB. */
export const DEFAULT_BODY_LIMIT = MB;
const FORM_BODY_LIMIT = 64 * KB;
const LARGE_BODY_ROUTES: [prefix: string, limit: number][] = [
  ['/v1/custody-events', 5 * MB],
  ['/v1/facilities/', 50 * MB],
];
/** Twilio posts forms here, RFC 8058 one-click unsubscribes, and the web pages; every other route takes JSON only. */
const FORM_ROUTES = ['/v1/webhooks/', '/v1/unsubscribe/', '/en/', '/es/', '/console/'];
const FORM_TYPE = 'application/x-www-form-urlencoded';

export const UNSUPPORTED_ENCODING = 'VIGIL_UNSUPPORTED_ENCODING';

export type RequestWithRawBody = FastifyRequest & { rawBody?: Buffer };

/** Route config (`@RouteConfig(STREAM_BODY)`) for a route that reads its JSON body itself, as it arrives. */
export const STREAM_BODY = { streamBody: true };
/** On a STREAM_BODY route: the body, inflated, not yet read; Fastify's parser saw none of it. */
export type RequestWithBodyStream = FastifyRequest & { bodyStream?: Readable };

export function largeBodyLimit(path: string): number | undefined {
  return LARGE_BODY_ROUTES.find(([prefix]) => path.startsWith(prefix))?.[1];
}

export function takesForm(path: string): boolean {
  const lower = path.toLowerCase();
  return FORM_ROUTES.some((prefix) => lower.startsWith(prefix));
}

export function bodyLimitFor(path: string, contentType: string | undefined): number {
  return largeBodyLimit(path) ?? (takesForm(path) && !isJsonType(contentType) ? FORM_BODY_LIMIT : DEFAULT_BODY_LIMIT);
}

export function acceptedMediaTypes(path: string): string {
  return takesForm(path) ? `${FORM_TYPE} or application/json` : 'application/json';
}

/** `application/json` or a `+json` type, parameters aside: `application/json-seq` is another format. */
function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}

/**
 * Vigil's parsers in place of Fastify's: JSON everywhere (and `+json` types), forms only on the
 * form routes, every body kept raw for the signatures computed over its exact bytes (sources, Twilio).
 * A JSON route refuses any other media type with 415 before reading the body (see `bodyHooks`).
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  const parseJson: FastifyBodyParser<Buffer> = (req, raw, done) => {
    (req as RequestWithRawBody).rawBody = raw;
    if (!utf8(req.headers['content-type'])) return done(encodingError(), undefined);
    // As body-parser did: an empty body is an empty object, and the top level is an object or an array.
    // body-parser dropped a leading byte-order mark, and feeds written by Windows tools send one.
    const text = raw.toString('utf8').replace(/^\uFEFF/, '');
    const first = /\S/.exec(text)?.[0];
    if (first === undefined) return done(null, {});
    if (first !== '{' && first !== '[') return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJson);
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json\b/, { parseAs: 'buffer' }, parseJson);
  fastify.addContentTypeParser(FORM_TYPE, { parseAs: 'buffer', bodyLimit: FORM_BODY_LIMIT }, (req, body, done) => {
    (req as RequestWithRawBody).rawBody = body as Buffer;
    if (!utf8(req.headers['content-type'])) return done(encodingError(), undefined);
    // node:querystring, as Express's `extended: false`: flat keys, a repeated key becomes an array.
    done(null, { ...querystring.parse((body as Buffer).toString('utf8'), '&', '=', { maxKeys: 1000 }) });
  });
  // Only form routes get here (JSON routes refuse other types first): a body Twilio would never send is ignored.
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: FORM_BODY_LIMIT }, (req, body, done) => {
    (req as RequestWithRawBody).rawBody = body as Buffer;
    done(null, undefined);
  });
}

/** Per route, as Fastify registers it: the body limit, and the checks that run before the body is read. */
export function bodyHooks(route: RouteOptions): void {
  const path = route.url;
  const limit = largeBodyLimit(path);
  if (limit) route.bodyLimit = limit;
  if ([route.method].flat().every((method) => method === 'GET' || method === 'HEAD')) return;
  const form = takesForm(path);
  const streams = (route.config as { streamBody?: boolean })?.streamBody === true;
  const beforeParsing: preParsingHookHandler = (req, _reply, payload, done) => {
    if (!hasBody(req.raw)) return done(null, payload);
    if (!form && !isJsonType(req.headers['content-type'])) return done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE());
    try {
      const body = inflate(req.headers['content-encoding'], payload);
      if (!streams) return done(null, body);
      // The handler reads the body; Fastify's parser gets none of it, but still checks the media
      // type's charset and refuses a Content-Length over the route's limit before anything is read.
      (req as RequestWithBodyStream).bodyStream = body;
      done(null, nothingRead(req.raw));
    } catch (error) {
      done(error as Error);
    }
  };
  route.preParsing = [...[route.preParsing ?? []].flat(), beforeParsing];
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** An empty payload that Fastify's length check takes for the whole body, which the handler reads instead. */
function nothingRead(req: IncomingMessage): Readable {
  const placeholder = Readable.from([]) as Readable & { receivedEncodedLength?: number };
  const length = Number(req.headers['content-length']);
  if (Number.isFinite(length)) placeholder.receivedEncodedLength = length;
  return placeholder;
}

/** Compressed bodies are inflated as body-parser did; the limit counts the inflated bytes. */
function inflate(encoding: string | undefined, payload: Readable): Readable {
  const name = (encoding ?? 'identity').trim().toLowerCase();
  if (name === 'identity') return payload;
  const inflater: Transform | undefined =
    name === 'gzip' ? createGunzip() : name === 'deflate' ? createInflate() : name === 'br' ? createBrotliDecompress() : undefined;
  if (!inflater) throw encodingError();
  // Fastify compares the received bytes with Content-Length, which counts the compressed ones.
  const counted = inflater as Transform & { receivedEncodedLength: number };
  counted.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => (counted.receivedEncodedLength += chunk.length));
  payload.on('error', (error) => inflater.destroy(error));
  return payload.pipe(inflater);
}

function utf8(contentType: string | undefined): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

function encodingError(): Error {
  return Object.assign(new Error('The request body encoding is not supported.'), { code: UNSUPPORTED_ENCODING, statusCode: 415 });
}
