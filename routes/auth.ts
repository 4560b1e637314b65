import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { createCaptcha } from '../domain/auth/captcha.ts';
import { CAPTCHA_PORTALS, PORTAL_INFO, PORTALS, type Portal } from '../domain/auth/roles.ts';
import { deleteSessionByToken } from '../domain/auth/sessions.ts';
import { signIn } from '../domain/auth/sign-in.ts';
import { DomainError, httpStatusOf } from '../domain/errors.ts';
import { clientIp } from './client-ip.ts';
import type { AppEnv } from './context.ts';
import { render } from './render.ts';

export const SESSION_COOKIE = 'wq_session';

// The guides' words for each portal's sign-in page.
const LOGIN_PAGE: Record<Portal, { heading: string; loginLabel: string }> = {
  student: { heading: '学生登录', loginLabel: '手机号/身份证号' },
  employer: { heading: '单位登录', loginLabel: '手机号' },
  school: { heading: '用户登录（学校/院系）', loginLabel: '用户名' },
  province: { heading: '用户登录（省级）', loginLabel: '用户名' },
  admin: { heading: '用户登录（平台管理）', loginLabel: '用户名' },
};

export const signInForm = z.object({
  login: z.string().trim().min(1, { error: '请输入账号' }).max(64, { error: '账号过长' }),
  password: z.string().min(1, { error: '请输入密码' }).max(128, { error: '密码过长' }),
  captcha: z.string().trim().max(8).optional(),
  captcha_id: z.string().max(64).optional(),
  next: z.string().max(300).optional(),
});

export const authRoutes = new Hono<AppEnv>();

for (const portal of PORTALS) {
  const base = PORTAL_INFO[portal].path;
  authRoutes.get(`${base}/login`, async (c) => {
    const actor = c.get('actor');
    if (actor?.portal === portal) return c.redirect(base, 303);
    return loginPage(c, portal, { next: c.req.query('next') });
  });

  authRoutes.post(`${base}/login`, async (c) => {
    const { db, config } = c.get('app');
    const parsed = signInForm.safeParse(await c.req.parseBody());
    if (!parsed.success) {
      const fields = Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message]));
      return loginPage(c, portal, { fields, status: 422 });
    }
    const form = parsed.data;
    try {
      const session = await signIn(db, {
        portal,
        login: form.login,
        password: form.password,
        ip: clientIp(c),
        userAgent: c.req.header('user-agent') ?? null,
        captcha: form.captcha_id ? { id: form.captcha_id, answer: form.captcha ?? '' } : undefined,
        captchaRequired: config.captcha,
      });
      await startBrowserSession(c, session.token);
      return c.redirect(safeNext(form.next, base) ?? base, 303);
    } catch (e) {
      if (!(e instanceof DomainError) || !['invalid', 'rate_limited', 'forbidden'].includes(e.code)) throw e;
      return loginPage(c, portal, { error: e.message, fields: e.fields, login: form.login, next: form.next, status: httpStatusOf(e) as 403 | 422 | 429 });
    }
  });
}

authRoutes.post('/logout', async (c) => {
  const token = getCookie(c, SESSION_COOKIE);
  if (token) await deleteSessionByToken(c.get('app').db, token);
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
  return c.redirect('/?signed_out=1', 303);
});

/** Hands a new session to this browser; whatever session it held before is gone. */
export async function startBrowserSession(c: Context<AppEnv>, token: string): Promise<void> {
  const { db, config } = c.get('app');
  const previous = getCookie(c, SESSION_COOKIE);
  if (previous) await deleteSessionByToken(db, previous);
  setCookie(c, SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    secure: isHttps(c, config.origin),
  });
}

async function loginPage(
  c: Context<AppEnv>,
  portal: Portal,
  opts: { error?: string; fields?: Record<string, string>; login?: string; next?: string | undefined; status?: 403 | 422 | 429 },
) {
  const { db, config } = c.get('app');
  const captchaId = config.captcha && CAPTCHA_PORTALS.includes(portal) ? await createCaptcha(db) : null;
  const page = LOGIN_PAGE[portal];
  return render(
    c,
    'auth/login',
    {
      title: page.heading,
      portal,
      heading: page.heading,
      loginLabel: page.loginLabel,
      action: `${PORTAL_INFO[portal].path}/login`,
      captchaId,
      error: opts.error ?? (opts.fields ? '请检查下面标出的内容' : undefined),
      fields: opts.fields ?? {},
      values: { login: opts.login ?? '' },
      next: safeNext(opts.next, PORTAL_INFO[portal].path),
    },
    opts.status ?? 200,
  );
}

/** Only a path inside the same portal is a valid place to return to after sign-in. */
function safeNext(next: string | undefined, base: string): string | undefined {
  if (!next || !/^\/[A-Za-z0-9/_\-.?=&%]*$/.test(next) || next.startsWith('//')) return undefined;
  return next === base || next.startsWith(base + '/') || next.startsWith(base + '?') ? next : undefined;
}

function isHttps(c: Context, origin: string | undefined): boolean {
  return origin ? origin.startsWith('https:') : new URL(c.req.url).protocol === 'https:';
}
