import { rm } from 'node:fs/promises';
import { localStorage, uploadsDir } from '../../db/storage.ts';
import { and, eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { destinationRegistrations, employers, favourites, graduates, notifications, terminations, uploads, users, warningMarks } from '../../db/schema/index.ts';
import { queueRosterImport } from '../../domain/graduates/roster-import.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { requestMinistryExport } from '../../domain/statistics/ministry.ts';
import { setupApp, type Client, type DemoAccount, type TestApp } from '../helpers/app.ts';
import { concretePath, portalAccountOf } from '../helpers/routes.ts';
import { insertAgreement } from '../helpers/signed-agreement.ts';
import { graduateClient } from '../helpers/graduates.ts';

// Issue 13, standing tests: the route inventory. Every route either sits behind its portal's guard
// (/student, /employer, /school, /province, /admin) or is declared public below; a new route outside
// both fails here until it is declared. And a generated matrix: every portal user of another tenant
// × every route that names an object × that object of this tenant answers 403 or 404.
let t: TestApp;
test.before(async () => {
  t = await setupApp({ DATA_DIR: `/tmp/wq-inventory-${process.pid}` });
});
test.after(async () => {
  await t.close();
  await rm(t.config.dataDir, { recursive: true, force: true });
});


/** Routes anyone may reach, each for a reason: sign-in and account recovery, assets, /verify, the unit's SMS link, health. */
const PUBLIC = new Set([
  'GET /', 'GET /healthz', 'GET /favicon.ico', 'GET /assets/:name', 'GET /captcha/:file{[A-Za-z0-9_-]+\\.png}', 'GET /dev/mailbox',
  'GET /verify', 'POST /verify', 'GET /verify/ca', 'GET /verify/ca.crt', 'POST /logout', 'GET /assist/:token', 'POST /assist/:token', 'GET /assist/:token/document.pdf',
  ...['student', 'employer', 'school', 'province', 'admin'].flatMap((p) => [`GET /${p}/login`, `POST /${p}/login`]),
  'GET /student/activation', 'POST /student/activation', 'GET /student/password-reset', 'POST /student/password-reset',
  'GET /employer/register', 'POST /employer/register', 'GET /employer/password-reset', 'POST /employer/password-reset',
]);

function inventory(): Array<{ method: string; path: string }> {
  const seen = new Set<string>();
  return t.app.routes.filter((r) => r.method !== 'ALL' && !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`)).map((r) => ({ method: r.method, path: r.path }));
}


test('every route is behind its portal\'s guard or declared public; an anonymous request to a guarded one goes to sign-in', async () => {
  const routes = inventory();
  const keys = new Set(routes.map((r) => `${r.method} ${r.path}`));
  const undeclared = routes.filter((r) => portalAccountOf(r.path) === null && !PUBLIC.has(`${r.method} ${r.path}`));
  assert.equal(undeclared.map((r) => `${r.method} ${r.path}`), [], 'routes outside the portals must be declared public');
  const stale = [...PUBLIC].filter((k) => !keys.has(k));
  assert.equal(stale, [], 'declared public but gone');
  const anonymous = t.client('198.51.100.90');
  let guarded = 0;
  for (const r of routes) {
    if (PUBLIC.has(`${r.method} ${r.path}`)) continue;
    const res = r.method === 'GET' ? await anonymous.get(concretePath(r.path)) : await anonymous.post(concretePath(r.path), {});
    guarded++;
    const toSignIn = res.status === 303 && /^\/(student|employer|school|province|admin)\/login(\?|$)/.test(res.location ?? "");
    assert.ok(toSignIn || res.status === 401 || res.status === 403 || res.status === 404, `anonymous ${r.method} ${r.path}: ${res.status} ${res.location ?? ''}`);
  }
  assert.ok(guarded >= 150, `${guarded} guarded routes`);
});

test('the tenancy matrix: another tenant\'s user on every route naming one of this tenant\'s objects gets 403 or 404', async () => {
  // This tenant: 示范大学 (10001), its 计算机学院, the unit 越综合企业 and one of the school's graduates.
  const [cs] = await t.db.select().from(users).where(eq(users.login, '10001-cs'));
  const [g] = await t.db.select().from(graduates).where(and(eq(graduates.trainingMode, '1'), eq(graduates.departmentId, cs!.departmentId!))).orderBy(graduates.id).offset(3).limit(1);
  const agreement = await insertAgreement(t.db, { graduateId: g!.id, number: 'W1000120260000001', code: 'ABCD1234' });
  const [unit] = await t.db.select().from(employers).where(eq(employers.name, '越综合企业'));
  const [school] = await t.db.select().from(users).where(eq(users.login, '10001-admin'));
  const [department] = await t.db.select().from(users).where(eq(users.login, '10001-cs'));
  const [unitUser] = await t.db.select().from(users).where(and(eq(users.employerId, unit!.id), eq(users.role, 'employer')));
  const [graduateUser] = await t.db.select().from(users).where(eq(users.graduateId, g!.id));
  const [termination] = await t.db.insert(terminations).values({ agreementId: agreement.id, path: 'online', initiator: 'employer', state: 'agreed_school_review', graduateId: g!.id, employerId: unit!.id, schoolId: g!.schoolId, departmentId: g!.departmentId, cohort: g!.cohort, requestedBy: unitUser!.id, reason: '双方协商一致' } as never).returning();
  const [registration] = await t.db.insert(destinationRegistrations).values({ state: 'school_review', graduateId: g!.id, schoolId: g!.schoolId, departmentId: g!.departmentId, cohort: g!.cohort, type: 'freelance', code: '76', details: { occupation: '自媒体运营', region: '110108' } }).returning();
  const [favourite] = await t.db.insert(favourites).values({ employerId: unit!.id, graduateId: g!.id, schoolId: g!.schoolId, cohort: g!.cohort, addedBy: unitUser!.id } as never).returning();
  const [mark] = await t.db.insert(warningMarks).values({ schoolId: g!.schoolId, employerId: unit!.id, category: 'fake', createdBy: school!.id }).returning();
  await t.db.insert(uploads).values({ id: 'M'.repeat(22), purpose: 'destination_proof', storageKey: `aa/${'0'.repeat(32)}.pdf`, mime: 'application/pdf', byteSize: 10, originalName: 'proof.pdf', uploadedBy: graduateUser?.id ?? school!.id, destinationId: registration!.id });
  const noticeOf = async (userId: number) => (await t.db.insert(notifications).values({ userId, title: '矩阵' }).returning())[0]!.id;
  const notices = { school: await noticeOf(school!.id), employer: await noticeOf(unitUser!.id), province: await noticeOf((await t.db.select().from(users).where(eq(users.login, 'bj-province')))[0]!.id) };
  const rosterImport = await queueRosterImport(t.db, localStorage(uploadsDir(t.config.dataDir)), actorOf(school!, 'matrix', false), { cohort: 2026, fileName: 'a.xlsx', bytes: new Uint8Array([0x50, 0x4b, 3, 4]) });
  const ministry = await requestMinistryExport(t.db, { actor: actorOf(school!, 'matrix', false), ip: null }, 2026);

  /** The object a route names, by its path. */
  const objectOf = (path: string): string | null => {
    const id = (n: number) => path.replace(/:id\{\[0-9\]\+\}/, String(n));
    if (/\/notifications\/:id/.test(path)) return id(path.startsWith('/school') ? notices.school : path.startsWith('/employer') ? notices.employer : path.startsWith('/province') ? notices.province : notices.school);
    if (/^\/(school|employer|student)\/agreements\/:id|^\/student\/(invitations|applications)\/:id|^\/school\/registrations\/:id/.test(path)) return id(agreement.id);
    if (/terminations\/:id/.test(path)) return id(termination!.id);
    if (/destinations\/:id/.test(path)) return id(registration!.id);
    if (/\/graduates\/:id/.test(path)) return id(g!.id);
    if (/\/accounts\/:id/.test(path)) return id(department!.id);
    if (/\/favourites\/:id/.test(path)) return id(favourite!.id);
    if (/\/warnings\/:id/.test(path)) return id(mark!.id);
    if (/roster-imports\/:id/.test(path)) return id(rosterImport);
    if (/ministry-exports\/:id/.test(path)) return id(ministry);
    if (/\/files\/:file/.test(path)) return path.replace(/:file\{[^}]*\}/, 'M'.repeat(22));
    if (/statistics\/schools\/:code/.test(path)) return path.replace(/:code\{[^}]*\}/, '10001');
    if (/registration\/pages\/:upload/.test(path)) return path.replace(/:upload\{[^}]*\}/, 'M'.repeat(22));
    return null;
  };

  // The other side: the other school, the other department, the other unit, another graduate, the other province.
  const others: Array<[string, Client]> = [
    ['school2', await t.signInAs('school2')],
    ['department2', await t.signInAs('department2')],
    ['employer2', await t.signInAs('employer2')],
    ['province2', await t.signInAs('province2')],
  ];
  const [otherGraduate] = await t.db.select().from(graduates).where(eq(graduates.trainingMode, '1')).orderBy(graduates.id).offset(7).limit(1);
  others.push(['another graduate', await graduateClient(t, otherGraduate!)]);
  const portalOf: Record<string, string> = { school2: '/school', department2: '/school', employer2: '/employer', province2: '/province', 'another graduate': '/student' };

  let cells = 0;
  const leaks: string[] = [];
  for (const r of inventory()) {
    const path = objectOf(r.path);
    if (!path) continue;
    for (const [who, client] of others) {
      if (!r.path.startsWith(portalOf[who]!)) continue;
      const res = r.method === 'GET' ? await client.get(path) : await client.post(path, { reason: '矩阵', decision: 'approve' });
      cells++;
      if (res.status !== 403 && res.status !== 404) leaks.push(`${who} ${r.method} ${path}: ${res.status} ${res.location ?? ''}`);
    }
  }
  assert.equal(leaks, [], `answers other than 403/404:\n${leaks.join('\n')}`);
  assert.ok(cells >= 60, `${cells} cells in the matrix`);
  console.log(`  matrix: ${cells} cells`);
});

test.run();
