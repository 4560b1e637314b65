import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { Logger } from '../db/log.ts';
import { loadSigningIdentity } from '../db/signing-identity.ts';
import { storageFor, type Storage } from '../db/storage.ts';
import { platformSigning, type PlatformSigning } from '../domain/agreements/sealing.ts';
import { signedInSession } from '../domain/auth/sessions.ts';
import { DomainError, httpStatusOf } from '../domain/errors.ts';
import { rosterRegistry, type StudentRegistry } from '../domain/graduates/registry.ts';
import { createViews } from '../views/index.ts';
import { createPdfPrinter, PrinterBusyError, type PdfPrinter } from '../views/pdf.ts';
import { adminRoutes } from './admin/index.ts';
import { loadAssets } from './assets.ts';
import { authRoutes, SESSION_COOKIE } from './auth.ts';
import { RequestBodyError, requestBodies } from './body.ts';
import type { AppContext, AppEnv } from './context.ts';
import { employerAccountRoutes } from './employer/account.ts';
import { employerRoutes } from './employer/index.ts';
import { requirePortal } from './guards.ts';
import { provinceRoutes } from './province/index.ts';
import { idempotentForms } from './idempotency.ts';
import { securityHeadersMiddleware } from './headers.ts';
import { publicRoutes } from './public.ts';
import { verifyRoutes } from './agreement-documents.ts';
import { assistRoutes } from './assist.ts';
import { render } from './render.ts';
import { SchoolCache } from './school-cache.ts';
import { schoolRoutes } from './school/index.ts';
import { studentAccountRoutes } from './student/account.ts';
import { studentRoutes } from './student/index.ts';

/**
 * `registry` defaults to the roster itself (G1); a deployment or a test may plug in an adapter.
 * `pdf`: server.ts passes the printer it closes on shutdown; the default one launches Chromium only
 * when something is printed (tests that print pass their own, to close it).
 */
export type CreateAppOptions = { config: Config; db: Db; log: Logger; registry?: StudentRegistry; pdf?: PdfPrinter; storage?: Storage; signing?: PlatformSigning };

/** Builds the whole HTTP app: middleware, then the public pages, then each portal behind its guard. */
export function createApp({ config, db, log, registry = rosterRegistry(db), pdf = createPdfPrinter({ chromiumPath: config.chromiumPath, log }), storage = storageFor(config), signing = platformSigning(db, () => loadSigningIdentity({ dataDir: config.dataDir, p12: config.signingP12 })) }: CreateAppOptions): Hono<AppEnv> {
  const { assets, routes: assetRoutes } = loadAssets();
  const ctx: AppContext = { config, db, log, assets, views: createViews({ cache: true }), registry, pdf, schoolCache: new SchoolCache(), storage, signing };
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    c.set('app', ctx);
    const started = performance.now();
    await next();
    log.info('request', {
      method: c.req.method,
      path: loggedPath(c.req.path),
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });
  app.route('/', assetRoutes);
  // Before anything that answers: the CSP nonce, and the security headers on every response.
  app.use(securityHeadersMiddleware());
  app.use(csrfProtection(config));
  app.use(async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE);
    const session = token ? await signedInSession(db, token) : null;
    c.set('actor', session?.actor ?? null);
    c.set('signedIn', session && { unread: session.unread, rosterConfirmed: session.rosterConfirmed, schoolCacheVersion: session.schoolCacheVersion });
    await next();
  });
  // After the session (an error page then keeps the user's navigation), before anything reads a body.
  app.use(requestBodies);
  app.use(idempotentForms);

  app.route('/', publicRoutes);
  app.route('/', verifyRoutes);
  app.route('/', assistRoutes);
  app.route('/', authRoutes);
  app.route('/student', studentAccountRoutes);
  app.route('/employer', employerAccountRoutes);
  for (const [path, portal, routes] of [
    ['/student', 'student', studentRoutes],
    ['/employer', 'employer', employerRoutes],
    ['/school', 'school', schoolRoutes],
    ['/province', 'province', provinceRoutes],
    ['/admin', 'admin', adminRoutes],
  ] as const) {
    app.use(path, requirePortal(portal));
    app.use(`${path}/*`, requirePortal(portal));
    app.route(path, routes);
  }

  app.notFound((c) => errorPage(c, 404, '页面不存在', '您访问的页面不存在或已被删除。'));
  app.onError((err, c) => {
    if (err instanceof DomainError) {
      const status = httpStatusOf(err);
      const heading = { 404: '页面不存在', 403: '无权访问', 409: '操作冲突', 422: '提交的内容有误', 429: '操作过于频繁' }[status];
      return errorPage(c, status, heading, err.message);
    }
    if (err instanceof RequestBodyError) return errorPage(c, err.status, err.heading, err.message);
    if (err instanceof PrinterBusyError) {
      c.header('Retry-After', '5');
      return errorPage(c, 503, '打印繁忙', '正在生成的文件较多，请稍等几秒后再下载。');
    }
    if (err instanceof HTTPException && err.status === 403) {
      return errorPage(c, 403, '请求被拒绝', '请求来源校验失败。请从本站页面重新提交。');
    }
    log.error('unhandled error', { path: loggedPath(c.req.path), error: err.stack ?? String(err) });
    return errorPage(c, 500, '系统繁忙', '服务器出现错误，请稍后再试。如果问题持续，请联系平台管理员。');
  });
  return app;
}

/** A path as the log keeps it: an assist link's token is a capability, never logged. */
export function loggedPath(path: string): string {
  return path.replace(/^\/assist\/[^/]+/, '/assist/:token');
}

async function errorPage(c: Context<AppEnv>, status: 400 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503, heading: string, message: string) {
  try {
    return await render(c, 'errors/error', { title: heading, heading, message }, status);
  } catch (e) {
    c.get('app').log.error('error page failed', { error: String(e) });
    return c.text(`${heading}: ${message}`, status);
  }
}

// CSRF: unsafe form requests must come from our own origin (Origin or Sec-Fetch-Site). Old
// browsers in IE-compatibility mode send neither on a same-origin form POST; for them a Referer
// from our origin is accepted, and a request with none of the three is refused.
function csrfProtection(config: Config) {
  const ourOrigin = (c: Context) => config.origin ?? new URL(c.req.url).origin;
  const check = csrf({ origin: (origin, c) => origin === ourOrigin(c), secFetchSite: 'same-origin' });
  return async (c: Context<AppEnv>, next: () => Promise<void>) => {
    if (!c.req.header('origin') && !c.req.header('sec-fetch-site')) {
      const referer = c.req.header('referer');
      if (referer && URL.canParse(referer) && new URL(referer).origin === ourOrigin(c)) return next();
    }
    return check(c, next);
  };
}
