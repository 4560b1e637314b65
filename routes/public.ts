import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { captchaImage } from '../domain/auth/captcha.ts';
import { PORTAL_INFO, PORTALS } from '../domain/auth/roles.ts';
import { notFound } from '../domain/errors.ts';
import { listDevMessages } from '../jobs/transports/dev.ts';
import type { AppEnv } from './context.ts';
import { render } from './render.ts';

const ENTRANCE_HINTS = {
  student: '毕业生查看签约邀请、签约与去向登记',
  employer: '用人单位发起签约邀请、管理协议',
  school: '学校、院系鉴证或审核',
  province: '省级用户设置协议类型、查看统计',
  admin: '平台工作人员审核单位、管理学校',
} as const;

export const publicRoutes = new Hono<AppEnv>();

publicRoutes.get('/', (c) =>
  render(c, 'public/landing', {
    title: '首页',
    signedOut: c.req.query('signed_out') === '1',
    entrances: PORTALS.map((p) => ({ href: `${PORTAL_INFO[p].path}/login`, label: PORTAL_INFO[p].entrance, hint: ENTRANCE_HINTS[p] })),
  }),
);

publicRoutes.get('/healthz', async (c) => {
  try {
    await c.get('app').db.execute(sql`select 1`);
    return c.json({ status: 'ok', database: 'reachable' });
  } catch {
    return c.json({ status: 'error', database: 'unreachable' }, 503);
  }
});

publicRoutes.get('/captcha/:file{[A-Za-z0-9_-]+\\.png}', async (c) => {
  const png = await captchaImage(c.get('app').db, c.req.param('file').slice(0, -4));
  if (!png) throw notFound('验证码');
  return c.body(new Uint8Array(png), 200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' });
});

// 开发邮箱: what the dev SMS/mail transport "sent". Only on a demo deployment, where the accounts
// are public anyway (the start log says so); a non-demo start never shows it, to anyone: its codes
// open graduates' accounts.
publicRoutes.get('/dev/mailbox', async (c) => {
  const { config, db } = c.get('app');
  if (!config.devMailbox || !config.demo) throw notFound('页面');
  return render(c, 'dev/mailbox', { title: '开发邮箱', messages: await listDevMessages(db, 100) });
});
