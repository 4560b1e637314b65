import type { Context, Next } from 'hono';
import { PORTAL_INFO, type Portal } from '../domain/auth/roles.ts';
import { DomainError } from '../domain/errors.ts';
import type { AppEnv } from './context.ts';

// Each portal's routes sit behind this: no session → the portal's sign-in page; a session of
// another portal → 403.
export function requirePortal(portal: Portal) {
  return async (c: Context<AppEnv>, next: Next) => {
    const actor = c.get('actor');
    if (!actor) {
      const login = `${PORTAL_INFO[portal].path}/login`;
      const target = c.req.method === 'GET' ? `${login}?next=${encodeURIComponent(c.req.path)}` : login;
      if (c.req.header('hx-request')) {
        c.header('HX-Redirect', target);
        return c.body(null, 204);
      }
      return c.redirect(target, 303);
    }
    if (actor.portal !== portal) throw new DomainError('forbidden', `您当前登录的是其他门户的账号，无权访问${PORTAL_INFO[portal].title}页面。请先退出再登录。`);
    await next();
  };
}
