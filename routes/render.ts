import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { PORTAL_INFO, ROLE_LABELS, type Portal } from '../domain/auth/roles.ts';
import type { AppEnv } from './context.ts';
import { navFor } from './nav.ts';

export type PageData = { title: string; portal?: Portal } & Record<string, unknown>;

/** Renders a full page in the portal layout, or for an htmx request, the template alone when asked. */
export function render(c: Context<AppEnv>, view: string, data: PageData, status: ContentfulStatusCode = 200) {
  const app = c.get('app');
  const actor = c.get('actor');
  const portal = data.portal ?? actor?.portal;
  const html = app.views.render(view, {
    ...data,
    nonce: c.get('secureHeadersNonce') ?? '',
    assets: app.assets,
    actor: actor && portal === actor.portal ? actor : null,
    roleLabel: actor ? ROLE_LABELS[actor.role] : '',
    portalTitle: portal ? PORTAL_INFO[portal].title : '',
    home: actor && portal === actor.portal ? PORTAL_INFO[actor.portal].path : '/',
    nav: actor && portal === actor.portal ? navFor(actor, c.req.path) : [],
    devMailbox: app.config.devMailbox,
  });
  return c.html(html, status);
}
