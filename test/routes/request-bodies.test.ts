import { count } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { favourites } from '../../db/schema/index.ts';
import { FAVOURITES_IMPORT_MAX_BYTES } from '../../domain/favourites/favourites-import.ts';
import { FORM_BODY_LIMIT } from '../../routes/body.ts';
import { concretePath, portalAccountOf } from '../helpers/routes.ts';
import { ORIGIN, setupApp, type TestApp } from '../helpers/app.ts';
import { parseHtml } from '../helpers/html.ts';
import { serveApp } from '../helpers/server.ts';
import { request as httpRequest } from 'node:http';

// Issue 13, defects 1 and 8: every route has a body limit, enforced before or while the body is
// read, with a clear 413 page; a body the parser cannot read and a NUL byte are 400, never 500.
let t: TestApp;
test.before(async () => {
  t = await setupApp();
});
test.after(async () => {
  await t.close();
});

/** Every POST route of the app, with its parameters filled in (a number, a token, an upload id). */
function postRoutes(): string[] {
  const paths = t.app.routes.filter((r) => r.method === 'POST').map((r) => r.path);
  return [...new Set(paths)].map(concretePath);
}


/** A body that says it is `declared` bytes long and streams chunks until it is stopped; counts what was read. */
function endlessBody(chunk = 1024 * 1024) {
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulled++;
      if (state.pulled > 200) controller.close();
      else controller.enqueue(new Uint8Array(chunk).fill(0x61));
    },
  });
  return { stream, state };
}

test('every POST route refuses a form body over the form limit with 413 before reading it, whoever asks; upload routes take theirs', async () => {
  const routes = postRoutes();
  assert.ok(routes.length >= 60, `${routes.length} POST routes`);
  const uploads: string[] = [];
  for (const path of routes) {
    const res = await t.app.request(path, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(FORM_BODY_LIMIT + 1) },
      body: 'a='.padEnd(FORM_BODY_LIMIT + 1, 'b'),
    });
    if (res.status === 413) {
      assert.match(await res.text(), '提交的内容过长', path);
      continue;
    }
    uploads.push(path);
    // A route that takes files has a larger limit of its own, and refuses 200 MB just the same.
    const huge = await t.app.request(path, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(200 * 1024 * 1024) }, body: '--x--' });
    assert.is(huge.status, 413, `${path} with 200 MB`);
    assert.match(await huge.text(), '不能超过');
  }
  // The routes that take files, and no other.
  assert.equal(uploads.sort(), [
    '/assist/' + 'x'.repeat(32),
    '/employer/favourites/import',
    '/employer/verification',
    '/school/roster-imports',
    '/school/terminations/1/force',
    '/student/agreements/1/termination',
    '/student/applications/1/copy',
    '/student/destination',
    '/student/offline-signing',
    '/student/registration',
    '/student/terminations/1/resubmission',
    '/verify',
  ]);
});

test('a body without a length (chunked) is counted while it is read, and reading stops at the limit: an anonymous sign-in of 200 MB reads one chunk', async () => {
  const { stream, state } = endlessBody();
  const res = await t.app.request('/employer/login', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: stream, duplex: 'half' } as RequestInit);
  assert.is(res.status, 413);
  assert.match(await res.text(), '提交的内容过长');
  assert.ok(state.pulled <= 3, `${state.pulled} MB read`);
});

test('the favourites import refuses a file over its cap before reading it, and a chunked one stops at the cap; nothing is added', async () => {
  const employer = await t.signInAs('employer');
  const cookie = [...employer.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const declared = await t.app.request('/employer/favourites/import', { method: 'POST', headers: { origin: ORIGIN, cookie, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(200 * 1024 * 1024) }, body: '--x--' });
  assert.is(declared.status, 413);
  assert.match(await declared.text(), `导入文件不能超过 ${FAVOURITES_IMPORT_MAX_BYTES / 1024 / 1024}MB`);
  const { stream, state } = endlessBody();
  const chunked = await t.app.request('/employer/favourites/import', { method: 'POST', headers: { origin: ORIGIN, cookie, 'content-type': 'multipart/form-data; boundary=x' }, body: stream, duplex: 'half' } as RequestInit);
  assert.is(chunked.status, 413);
  assert.ok(state.pulled <= FAVOURITES_IMPORT_MAX_BYTES / (1024 * 1024) + 2, `${state.pulled} MB read`);
  const [{ n }] = (await t.db.select({ n: count() }).from(favourites)) as [{ n: number }];
  assert.is(n, 0);
});

test('a broken multipart body is 400 on every POST route, signed in as the route\'s portal or not', async () => {
  const clients = new Map<string, Awaited<ReturnType<TestApp['signInAs']>> | null>();
  const bodies = [
    { type: 'multipart/form-data; boundary=abc', body: '--abc\r\nContent-Disposition: form-data; name="x"\r\n\r\nunterminated' },
    { type: 'multipart/form-data', body: 'no boundary at all' },
    { type: 'multipart/form-data; boundary=abc', body: '--abc\r\nContent-Disposition: form-data; name="f"; filename="a.xlsx"\r\nContent-Type: application/octet-stream\r\n\r\n\u0001\u0002' },
  ];
  let requests = 0;
  for (const path of postRoutes()) {
    const account = portalAccountOf(path);
    if (account && !clients.has(account)) clients.set(account, await t.signInAs(account));
    for (const client of [null, account ? clients.get(account)! : null]) {
      for (const b of bodies) {
        const headers: Record<string, string> = { origin: ORIGIN, 'content-type': b.type };
        if (client) headers.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        const res = await t.app.request(path, { method: 'POST', headers, body: b.body }, { incoming: { socket: { remoteAddress: '198.51.100.7', remotePort: 1, remoteFamily: 'IPv4' } } });
        requests++;
        assert.ok(res.status < 500, `${client ? account : 'anonymous'} ${path}: ${res.status}`);
      }
    }
  }
  assert.ok(requests >= 300, `${requests} requests`);
  // Signed in, the form is read before anything else: a broken one (here: none at all) says so.
  const school = clients.get('school')!;
  const res = await school.request('POST', '/school/graduates', { headers: { 'content-type': 'multipart/form-data; boundary=abc' } });
  assert.is(res.status, 400);
  assert.match(res.text, '格式有误');
});

test('a NUL byte in a form field or the query string is 400 with a message, anonymous or signed in', async () => {
  const anonymous = t.client('198.51.100.8');
  for (const path of ['/student/login', '/employer/login', '/school/login']) {
    const res = await anonymous.post(path, { login: 'a\u0000b', password: 'x' });
    assert.is(res.status, 400, path);
    assert.match(res.text, '控制字符');
  }
  const school = await t.signInAs('school');
  const form = await school.post('/school/graduates', { name: '张\u0000三' });
  assert.is(form.status, 400);
  const query = await school.get('/school/graduates?q=%E5%BC%A0%00');
  assert.is(query.status, 400);
  assert.match(query.text, '控制字符');
});

test('over real HTTP a form is read from node\'s request itself: UTF-8, + and escapes as a browser sends them; a NUL is 400; a declared length over the limit is 413 before a byte is read', async () => {
  const served = await serveApp(t.db);
  try {
    const post = (body: string) =>
      fetch(`${served.base}/school/login`, { method: 'POST', redirect: 'manual', headers: { origin: served.base, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' }, body });
    // A refused sign-in shows the typed login again: what the form parsed.
    const refused = await post(`login=${encodeURIComponent('张三')}+%26+a%2Bb&password=nope&login=last`);
    assert.ok(refused.status === 401 || refused.status === 422, String(refused.status));
    assert.is((parseHtml(await refused.text()).querySelector('#login') as unknown as { value: string }).value, 'last', 'the last of a repeated field, as hono\'s parser gives it');
    const typed = await post(`login=${encodeURIComponent('张三')}+%26+a%2Bb&password=nope`);
    assert.is((parseHtml(await typed.text()).querySelector('#login') as unknown as { value: string }).value, '张三 & a+b');
    const nul = await post('login=a%00b&password=nope');
    assert.is(nul.status, 400);
    assert.match(await nul.text(), '无法保存的控制字符');
    // Headers only: the body door answers before any of the declared bytes arrives.
    const early = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(`${served.base}/school/login`, { method: 'POST', headers: { origin: served.base, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(FORM_BODY_LIMIT + 1) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.is(early.status, 413);
    assert.match(early.text, '提交的内容过长');
  } finally {
    await served.close();
  }
});

test.run();

