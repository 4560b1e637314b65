import type { Context, Next } from 'hono';
import type { AppEnv } from './context.ts';
import { pooledRandom } from './random-pool.ts';

// Every response but the static files carries the security headers hono's secureHeaders would set
// with our options (test/routes/public.test.ts holds the two equal) and, unless it says otherwise,
// Cache-Control: no-store: pages carry personal data and employers share office PCs, so nothing is
// kept by the browser.
//
// A page (routes/render.ts) is made with all of its headers at once, as one plain object: then
// @hono/node-server writes them as they are. Headers set on a response after its handler (as
// secureHeaders does) made a Headers object of it, set one by one and read back into an object for
// node (issue 14: "headers set before the handler, so the fast path holds"). Other responses
// (redirects, files, errors made elsewhere) get them after their handler, as before.

/** The Content-Security-Policy of a response, its scripts allowed by the page's nonce alone. */
const csp = (nonce: string) =>
  `default-src 'self'; script-src 'nonce-${nonce}'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'`;

const STATIC_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
} as const;

/** Responses made with every header already (pages): the middleware leaves them as they are. */
const complete = new WeakSet<Response>();
/** Redirects made by c.redirect: no body, so the middleware says Content-Length: 0. */
const bodiless = new WeakSet<Response>();

/** Whether a response was made with all its headers at once (for a test). */
export const madeComplete = (res: Response) => complete.has(res);

/**
 * The request's CSP nonce (as hono's NONCE, 16 random bytes), read by the layout and the header
 * alike; made on first use, so a page answered before the middleware (a missing asset's 404) has one too.
 */
export function pageNonce(c: Context<AppEnv>): string {
  let nonce = c.get('secureHeadersNonce');
  if (nonce === undefined) c.set('secureHeadersNonce', (nonce = pooledRandom(16, 'base64')));
  return nonce;
}

/** The security headers and Cache-Control of a response of this request, as one plain object. */
export function securityHeaders(c: Context<AppEnv>): Record<string, string> {
  const headers: Record<string, string> = { 'content-security-policy': csp(pageNonce(c)), ...STATIC_HEADERS, 'cache-control': 'no-store' };
  if (c.get('app').config.origin?.startsWith('https:')) headers['strict-transport-security'] = 'max-age=31536000';
  return headers;
}

/** A response made with every header of securityHeaders(c) and its own: sent as it is. */
export function completeResponse(body: BodyInit | null, status: number, headers: Record<string, string>): Response {
  const res = new Response(body, { status, headers });
  complete.add(res);
  return res;
}

/**
 * Whether a handler has set headers on the context (c.header, setCookie) that a page made as a
 * complete response would not carry: then the page is made through hono (c.body), as before.
 */
export function hasPreparedHeaders(c: Context<AppEnv>): boolean {
  return c.get('preparedHeaders') === true;
}

/** The middleware: a fresh CSP nonce for the request; the headers on whatever response is not complete. */
export function securityHeadersMiddleware() {
  return async (c: Context<AppEnv>, next: Next) => {
    pageNonce(c);
    const { header, redirect } = c;
    c.header = (name, value, options) => {
      c.set('preparedHeaders', true);
      header(name, value, options);
    };
    c.redirect = (location, status) => {
      const res = redirect(location, status);
      bodiless.add(res);
      return res;
    };
    await next();
    if (complete.has(c.res)) return;
    const headers = c.res.headers;
    const hadCacheControl = headers.has('cache-control');
    for (const [name, value] of Object.entries(securityHeaders(c))) if (name !== 'cache-control' || !hadCacheControl) headers.set(name, value);
    headers.delete('x-powered-by');
    // A redirect has no body: said so, node sends it whole rather than as an empty chunked body.
    if (bodiless.has(c.res) && !headers.has('content-length') && !headers.has('transfer-encoding')) headers.set('content-length', '0');
  };
}
