import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { PORTAL_INFO, ROLE_LABELS, type Portal } from '../domain/auth/roles.ts';
import type { Actor } from '../domain/auth/sessions.ts';
import { unreadCount } from '../domain/notifications.ts';
import type { AppEnv } from './context.ts';
import { acceptsGzip, gzipPage } from './gzip.ts';
import { completeResponse, hasPreparedHeaders, pageNonce, securityHeaders } from './headers.ts';
import { withIdempotencyKeys } from './idempotency.ts';
import { navFor } from './nav.ts';

export type PageData = { title: string; portal?: Portal } & Record<string, unknown>;

/** Where each portal mounts its 消息通知 (G11). */
export const notificationsPath = (portal: Portal) => `${PORTAL_INFO[portal].path}/notifications`;

/** Below this a page is sent as it is (as hono's compress does). */
const COMPRESS_FROM_BYTES = 1024;
/**
 * A rendered page, gzipped here in one synchronous call when the browser takes gzip (issue 14):
 * hono's compress middleware piped every response through a CompressionStream, which cost about
 * 0.6 ms of CPU a page against 0.05 ms for zlib on the string. Nothing else is compressed on the
 * way out: the static files are gzipped once when loaded (routes/assets.ts), and the rest is
 * small (/healthz) or compressed already (PDF, .xlsx, PNG).
 */
function html(c: Context<AppEnv>, page: string, status: ContentfulStatusCode = 200): Response {
  const plain = c.req.method === 'HEAD' || page.length < COMPRESS_FROM_BYTES || !acceptsGzip(c.req.header('accept-encoding'));
  const body = plain ? page : gzipPage(page);
  const own: Record<string, string> = {
    'content-type': 'text/html; charset=UTF-8',
    vary: 'Accept-Encoding',
    ...(plain ? { 'content-length': String(Buffer.byteLength(page)) } : { 'content-encoding': 'gzip' }),
  };
  // What a handler set on the context (a cookie, an htmx header) rides with hono's own response.
  if (hasPreparedHeaders(c)) return c.body(body, status, own);
  // Otherwise the page is made with every header at once (routes/headers.ts).
  return completeResponse(body, status, { ...securityHeaders(c), ...own });
}

/** Renders a full page in the portal layout, or for an htmx request, the template alone when asked. */
export function render(c: Context<AppEnv>, view: string, data: PageData, status: ContentfulStatusCode = 200): Response | Promise<Response> {
  const actor = c.get('actor');
  const portal = data.portal ?? actor?.portal;
  if (!actor || portal !== actor.portal) return html(c, renderPage(c, view, data, portal, null), status);
  // The header's unread count: a GET shows the one the session look-up read; a page rendered by a
  // POST (a refused form) reads it again, as the POST may have changed it.
  const unread = c.req.method === 'GET' ? c.get('signedIn')?.unread : undefined;
  if (unread !== undefined) return html(c, withIdempotencyKeys(renderPage(c, view, data, portal, { actor, unread })), status);
  return unreadCount(c.get('app').db, actor.userId).then((unread) => html(c, withIdempotencyKeys(renderPage(c, view, data, portal, { actor, unread })), status));
}

function renderPage(c: Context<AppEnv>, view: string, data: PageData, portal: Portal | undefined, signedIn: { actor: Actor; unread: number } | null): string {
  const app = c.get('app');
  const actor = c.get('actor');
  return app.views.render(view, {
    ...data,
    nonce: pageNonce(c),
    assets: app.assets,
    actor: signedIn?.actor ?? null,
    roleLabel: actor ? ROLE_LABELS[actor.role] : '',
    portalTitle: portal ? PORTAL_INFO[portal].title : '',
    home: signedIn ? PORTAL_INFO[signedIn.actor.portal].path : '/',
    nav: signedIn ? navFor(signedIn.actor, c.req.path) : [],
    notificationCount: signedIn ? { href: notificationsPath(signedIn.actor.portal), unread: signedIn.unread } : null,
    devMailbox: app.config.devMailbox,
  });
}

/** A fragment rendered alone (an htmx poll's region): sent as a page is, gzipped when it is worth it. */
export function fragment(c: Context<AppEnv>, view: string, data: Record<string, unknown>): Response {
  return html(c, c.get('app').views.render(view, data));
}

/** An htmx request for part of a page (not a history restore, which needs the whole page). */
export function wantsFragment(c: Context<AppEnv>): boolean {
  return c.req.header('hx-request') === 'true' && c.req.header('hx-history-restore-request') !== 'true';
}

/**
 * One place decides between a page and its fragments: htmx gets the partials that changed (each
 * a root element with a stable id, others out of band), with idempotency keys on their forms like a
 * page; anyone else gets `page` — a page, or a redirect after a POST.
 */
export async function pageOrFragments(c: Context<AppEnv>, page: () => Response | Promise<Response>, fragments: Array<{ view: string; data: Record<string, unknown> }> | (() => Promise<Array<{ view: string; data: Record<string, unknown> }>>)): Promise<Response> {
  if (!wantsFragment(c)) return page();
  const { views } = c.get('app');
  // After a form's action, its key is settled beside the fragments' reads, not after them.
  const settled = c.get('settleForm')?.(200, null);
  const [parts] = await Promise.all([typeof fragments === 'function' ? fragments() : fragments, settled]);
  return html(c, withIdempotencyKeys(parts.map((p) => views.render(p.view, p.data)).join('')));
}
