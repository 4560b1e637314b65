import { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from './context.ts';

// Request bodies, through one door (issue 13, defects 1 and 8):
// - every request has a body limit, enforced before or while the body is read: a form's is small,
//   and a route that takes files declares its own with `uploadLimit`, next to the route;
// - a body the parser cannot read (a broken multipart body) is a 400, not a 500;
// - a NUL byte in a form field or the query string (which PostgreSQL cannot store in text) is a 400.
// Routes read forms with `c.req.parseBody()` as before; this middleware puts the checks behind it.

/** Every form without files: the longest (an agreement's 补充条款, a batch of ids) is a few kilobytes. */
export const FORM_BODY_LIMIT = 128 * 1024;

export type BodyLimit = { maxSize: number; message: string };

/** Raised while a body is read: the status and the words of the error page. */
export class RequestBodyError extends Error {
  readonly status: 400 | 413;
  readonly heading: string;
  constructor(status: 400 | 413, heading: string, message: string) {
    super(message);
    this.name = 'RequestBodyError';
    this.status = status;
    this.heading = heading;
  }
}

const declared = new WeakMap<object, BodyLimit>();

/**
 * A route that takes files: its body may be up to `maxSize` bytes (the files' cap with room for the
 * multipart framing and the other fields); `message` says so in the words of the form.
 */
export function uploadLimit(maxSize: number, message: string): MiddlewareHandler<AppEnv> {
  const marker: MiddlewareHandler<AppEnv> = async (_c, next) => next();
  declared.set(marker, { maxSize, message });
  return marker;
}

const formLimit: BodyLimit = { maxSize: FORM_BODY_LIMIT, message: '提交的内容过长（表单不能超过 128KB）。请删减后重新提交。' };

/** The limit of the request's route: its declared upload limit, or a form's. */
export function bodyLimitOf(c: Context): BodyLimit {
  for (const route of matchedRoutes(c)) {
    const handler = route.handler as unknown as Record<string, unknown>;
    const limit = declared.get(handler) ?? declared.get((handler.__COMPOSED_HANDLER as object | undefined) ?? {});
    if (limit) return limit;
  }
  return formLimit;
}

const tooLarge = (limit: BodyLimit) => new RequestBodyError(413, '提交的内容过大', limit.message);
const malformed = () => new RequestBodyError(400, '提交的内容无法识别', '提交的表单数据不完整或格式有误，请返回上一页重新填写后提交。');
const nulByte = () => new RequestBodyError(400, '提交的内容无法识别', '提交的内容含有无法保存的控制字符（NUL），请删除后重新提交。');

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value instanceof File) return value.name.includes('\u0000');
  return false;
}

const URLENCODED = /^application\/x-www-form-urlencoded\s*(;|$)/i;

/**
 * A form without files (every form but uploads), read straight from node's request as the route
 * first asks for it: its bytes, decoded and split as a browser's urlencoded form is (URLSearchParams,
 * the parser undici's formData() uses). Going through the web Request instead wrapped node's stream
 * in a web stream, buffered it, and parsed it as a Response: about a tenth of an htmx review
 * decision's node time (issue 14). The declared length was checked against the limit already;
 * node's parser ends the stream there.
 */
function formFromIncoming(c: Context<AppEnv>, incoming: IncomingMessage) {
  let form: Promise<FormData> | undefined;
  const read = async () => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of incoming) chunks.push(chunk as Buffer);
    } catch {
      throw malformed();
    }
    if (!incoming.complete) throw malformed();
    const data = new FormData();
    for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) data.append(k, v);
    return data;
  };
  // hono's parseBody takes a form from bodyCache.formData when there is one. Not enumerable: its
  // other readers (text, json) would otherwise derive their body from this form.
  Object.defineProperty(c.req.bodyCache, 'formData', {
    configurable: true,
    get: () => (form ??= read()),
    set: (value: Promise<FormData>) => void (form = value),
  });
}

/**
 * The body door. A declared Content-Length over the limit is refused before anything is read; a
 * body without one (chunked) is counted as the route reads it, and reading stops at the limit.
 */
export async function requestBodies(c: Context<AppEnv>, next: Next) {
  if (/%00/i.test(c.req.url)) throw nulByte();
  // A GET or HEAD has no body (the node adapter gives it none, and hono parses none): nothing to
  // limit. Asking for it would build the adapter's full Request, about 20 µs a page (issue 14).
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
  const raw = c.req.raw;
  const limit = bodyLimitOf(c);
  const length = raw.headers.get('content-length');
  let exceeded = false;
  // node's request as @hono/node-server hands it over (app.request in the tests passes none, or a stand-in).
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof IncomingMessage && length !== null && !raw.headers.has('transfer-encoding') && URLENCODED.test(raw.headers.get('content-type') ?? '')) {
    if (!/^\d+$/.test(length)) throw malformed();
    if (Number(length) > limit.maxSize) throw tooLarge(limit);
    formFromIncoming(c, incoming);
  } else if (!raw.body) {
    // Nothing to read; the parser still answers for a form that claims a type it does not have.
  } else if (length !== null && !raw.headers.has('transfer-encoding')) {
    if (!/^\d+$/.test(length)) throw malformed();
    if (Number(length) > limit.maxSize) throw tooLarge(limit);
  } else {
    let size = 0;
    const counted = raw.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          if (size > limit.maxSize) {
            exceeded = true;
            controller.error(tooLarge(limit));
          } else controller.enqueue(chunk);
        },
      }),
    );
    c.req.raw = new Request(raw, { body: counted, duplex: 'half' } as RequestInit);
  }
  const parse = c.req.parseBody.bind(c.req);
  c.req.parseBody = (async (options?: Parameters<typeof parse>[0]) => {
    let body: Record<string, unknown>;
    try {
      body = await parse(options);
    } catch (e) {
      if (e instanceof RequestBodyError) throw e;
      throw exceeded ? tooLarge(limit) : malformed();
    }
    if (Object.entries(body).some(([k, v]) => k.includes('\u0000') || hasNul(v))) throw nulByte();
    return body;
  }) as typeof c.req.parseBody;
  return next();
}
