import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { setCookie } from 'hono/cookie';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { devMessages } from '../../db/schema/index.ts';
import { appOnDb, DEMO_ACCOUNTS, setupApp, type TestApp } from '../helpers/app.ts';
import { textOf } from '../helpers/html.ts';
import { render } from '../../routes/render.ts';
import { madeComplete } from '../../routes/headers.ts';

let t: TestApp;
test.before(async () => {
  t = await setupApp();
});
test.after(async () => {
  await t.close();
});

test('landing page: the five entrances with the guides words', async () => {
  const res = await t.client().get('/');
  assert.is(res.status, 200);
  const links = [...res.doc.querySelectorAll('#entrances a')].map((a) => [a.getAttribute('href'), a.firstChild!.textContent]);
  assert.equal(links, [
    ['/student/login', '学生登录'],
    ['/employer/login', '单位登录'],
    ['/school/login', '学校/院系登录'],
    ['/province/login', '省级登录'],
    ['/admin/login', '平台管理登录'],
  ]);
  assert.is(res.doc.documentElement.getAttribute('lang'), 'zh-CN');
});

test('security headers: a nonce CSP that matches the one script, no framing, nosniff, no-store pages', async () => {
  const res = await t.client().get('/school/login');
  const csp = res.headers.get('content-security-policy')!;
  const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
  const scripts = [...res.doc.querySelectorAll('script')];
  assert.is(scripts.length, 1);
  assert.is(scripts[0]!.getAttribute('nonce'), nonce);
  assert.not.match(csp, 'unsafe-inline');
  assert.not.match(csp, 'unsafe-eval');
  assert.match(csp, "frame-ancestors 'none'");
  assert.match(csp, "style-src 'self'");
  assert.is(res.headers.get('x-content-type-options'), 'nosniff');
  assert.is(res.headers.get('cache-control'), 'no-store');
  assert.is(res.doc.querySelectorAll('[style]').length, 0, 'no inline styles under the CSP');
  const again = await t.client().get('/school/login');
  assert.is.not(/'nonce-([^']+)'/.exec(again.headers.get('content-security-policy')!)![1], nonce, 'a new nonce per response');
});

test('security headers: a page (made with all its headers), a redirect and a refused form carry what hono\'s secureHeaders sets with our options', async () => {
  // The reference: hono's own middleware with the options the app had before it set them itself.
  const reference = new Hono();
  reference.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: [() => "'nonce-N'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], fontSrc: ["'self'"], connectSrc: ["'self'"], formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"], objectSrc: ["'none'"] },
      strictTransportSecurity: false,
      referrerPolicy: 'same-origin',
    }),
  );
  reference.get('/', (c) => c.body(null, 204));
  const expected = Object.fromEntries((await reference.request('/')).headers);
  const security = (res: { headers: Headers }) =>
    Object.fromEntries([...res.headers].filter(([k]) => k in expected).map(([k, v]) => [k, v.replace(/'nonce-[^']+'/, "'nonce-N'")]));
  const c = t.client();
  const page = await c.get('/school/login', { 'accept-encoding': 'gzip' });
  const plain = await c.get('/school/login');
  const redirect = await c.get('/school');
  const refused = await c.post('/school/login', { login: 'nobody', password: 'wrong-password' });
  const missing = await c.get('/no-such-page');
  const missingAsset = await c.get('/assets/no-such-file.js');
  for (const [label, res] of [['gzipped page', page], ['plain page', plain], ['redirect', redirect], ['refused form', refused], ['404 page', missing], ['404 under /assets', missingAsset]] as const) {
    assert.equal(security(res), expected, label);
    assert.is(res.headers.get('cache-control'), 'no-store', label);
    assert.is(res.headers.get('x-powered-by'), null, label);
  }
  // The pages were made with all their headers at once; the redirect got them from the middleware.
  assert.ok(madeComplete(page.raw) && madeComplete(plain.raw) && madeComplete(missing.raw));
  assert.not.ok(madeComplete(redirect.raw));
  // A page answered before the middleware (a missing asset) still has a nonce, the same in its header and its script.
  assert.is(missing.status, 404);
  assert.is(missingAsset.status, 404);
  const nonce = /'nonce-([^']+)'/.exec(missingAsset.headers.get('content-security-policy')!)?.[1];
  assert.ok(nonce && nonce === missingAsset.doc.querySelector('script')?.getAttribute('nonce'), 'the missing asset page\'s nonce');
  assert.is(page.headers.get('content-encoding'), 'gzip');
  assert.is(page.headers.get('vary'), 'Accept-Encoding');
  assert.is(redirect.status, 303);
  assert.is(redirect.headers.get('content-length'), '0', 'a redirect says it has no body');
  // A page whose handler set a header on the context keeps it, with the same security headers.
  const { app } = appOnDb(t.db);
  app.get('/probe-cookie', (c) => {
    setCookie(c, 'probe', '1', { path: '/' });
    return render(c, 'errors/error', { title: '探针', heading: '探针', message: '探针页面'.repeat(100) });
  });
  // Only c.redirect's redirects are said to be empty: a 3xx with a body keeps its length.
  app.get('/probe-redirect-body', (c) => c.body('see other', 302, { location: '/' }));
  const withBody = await app.request('/probe-redirect-body');
  assert.is.not(withBody.headers.get('content-length'), '0');
  assert.is(await withBody.text(), 'see other');
  const withCookie = await app.request('/probe-cookie', { headers: { 'accept-encoding': 'gzip' } });
  assert.is(withCookie.headers.get('set-cookie'), 'probe=1; Path=/');
  assert.is(withCookie.headers.get('content-encoding'), 'gzip');
  assert.equal(security(withCookie), expected);
  assert.is(withCookie.headers.get('cache-control'), 'no-store');
  assert.is(withCookie.headers.get('strict-transport-security'), null, 'HSTS only behind HTTPS');
  // Served as https (ORIGIN), pages and redirects alike tell the browser to keep to HTTPS.
  const secure = appOnDb(t.db, { ORIGIN: 'https://wangqian.example.edu.cn' }).client();
  for (const path of ['/school/login', '/school']) assert.is((await secure.get(path, { 'accept-encoding': 'gzip' })).headers.get('strict-transport-security'), 'max-age=31536000', path);
});

test('htmx: pinned 2.0.x served from our origin under a hashed URL with immutable caching, configured for the CSP', async () => {
  const page = await t.client().get('/');
  const src = page.doc.querySelector('script')!.getAttribute('src')!;
  assert.match(src, /^\/assets\/htmx-2\.0\.\d+\.[0-9a-f]{12}\.js$/);
  const js = await t.client().get(src);
  assert.is(js.status, 200);
  assert.match(js.headers.get('cache-control')!, 'immutable');
  assert.match(js.text, 'htmx');
  const config = JSON.parse(page.doc.querySelector('meta[name=htmx-config]')!.getAttribute('content')!);
  assert.is(config.allowEval, false);
  assert.is(config.includeIndicatorStyles, false);
  assert.ok(config.responseHandling.some((r: { code: string; swap: boolean }) => r.code === '422' && r.swap));
  const css = page.doc.querySelector('link[rel=stylesheet]')!.getAttribute('href')!;
  assert.match(css, /^\/assets\/app\.[0-9a-f]{12}\.css$/);
  assert.is((await t.client().get('/assets/app.000000000000.css')).status, 404);
});

test('a browser\'s first request for /favicon.ico gets an icon; assets carry nosniff, and a JavaScript property name is no asset', async () => {
  const icon = await t.client().get('/favicon.ico');
  assert.is(icon.status, 200);
  assert.is(icon.headers.get('content-type'), 'image/x-icon');
  assert.is(icon.headers.get('x-content-type-options'), 'nosniff');
  assert.equal([...icon.bytes.subarray(0, 4)], [0, 0, 1, 0], 'an ICO header');
  assert.equal([...icon.bytes.subarray(22, 26)], [0x89, 0x50, 0x4e, 0x47], 'holding a PNG');
  const page = await t.client().get('/');
  const css = await t.client().get(page.doc.querySelector('link[rel=stylesheet]')!.getAttribute('href')!);
  assert.is(css.headers.get('x-content-type-options'), 'nosniff');
  for (const name of ['constructor', '__proto__', 'toString']) assert.is((await t.client().get(`/assets/${name}`)).status, 404, name);
});

test('/healthz answers while the database is reachable', async () => {
  const res = await t.client().get('/healthz');
  assert.is(res.status, 200);
  assert.equal(JSON.parse(res.text), { status: 'ok', database: 'reachable' });
});

test('/healthz answers 503 when the database is unreachable', async () => {
  const { connect } = await import('../../db/client.ts');
  const unreachable = connect('postgres://nobody:x@127.0.0.1:9/none', 1);
  const res = await appOnDb(unreachable).client().get('/healthz');
  assert.is(res.status, 503);
  assert.equal(JSON.parse(res.text), { status: 'error', database: 'unreachable' });
  await unreachable.$client.end({ timeout: 1 });
});

test('error pages: 404 in Chinese with a way back', async () => {
  const res = await t.client().get('/no/such/page');
  assert.is(res.status, 404);
  assert.is(textOf(res.doc, 'h1'), '页面不存在');
  assert.ok(res.doc.querySelector('#error a[href="/"]'));
});

test('error pages: 500 in Chinese without the stack', async () => {
  const { app } = appOnDb(t.db);
  app.get('/boom', () => {
    throw new Error('secret detail');
  });
  const { Client } = await import('../helpers/app.ts');
  const res = await new Client(app).get('/boom');
  assert.is(res.status, 500);
  assert.is(textOf(res.doc, 'h1'), '系统繁忙');
  assert.not.match(res.text, 'secret detail');
});

test('开发邮箱: lists what the dev transport sent on a demo deployment; a non-demo start never shows it, not even to the platform admin', async () => {
  await t.db.insert(devMessages).values({ channel: 'sms', recipient: '13900000000', body: '验证码 123456' });
  const res = await t.client().get('/dev/mailbox');
  assert.is(res.status, 200);
  assert.match(textOf(res.doc, '#mailbox')!, '验证码 123456');
  const production = appOnDb(t.db, { DEMO: 'off' });
  assert.is((await production.client().get('/dev/mailbox')).status, 404);
  const admin = production.client();
  assert.is((await admin.post('/admin/login', { login: DEMO_ACCOUNTS.admin.login, password: DEMO_ACCOUNTS.admin.password })).status, 303);
  assert.is((await admin.get('/dev/mailbox')).status, 404);
  const webhook = appOnDb(t.db, { SMS_TRANSPORT: 'webhook', SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms', MAIL_TRANSPORT: 'webhook', MAIL_WEBHOOK_URL: 'http://127.0.0.1:9/mail' });
  assert.is((await webhook.client().get('/dev/mailbox')).status, 404);
});

test('pages are small: landing and sign-in pages are far below 14 KB gzip', async () => {
  for (const path of ['/', '/student/login', '/employer/login', '/school/login', '/province/login', '/admin/login']) {
    const res = await t.client().get(path);
    assert.ok(gzipSync(res.text).length < 14 * 1024, path);
  }
});

test('pages work without JavaScript: every sign-in form is a plain POST form with labelled fields', async () => {
  for (const portal of ['student', 'employer', 'school', 'province', 'admin']) {
    const res = await t.client().get(`/${portal}/login`);
    const form = res.doc.querySelector('#login-form')!;
    assert.is(form.getAttribute('method'), 'post');
    assert.is(form.getAttribute('action'), `/${portal}/login`);
    for (const input of form.querySelectorAll('input:not([type=hidden])')) {
      assert.ok(res.doc.querySelector(`label[for="${input.id}"]`), `label for ${input.id}`);
    }
  }
});

test.run();
