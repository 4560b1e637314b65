import { eq } from 'drizzle-orm';
import { test } from 'uvu';
import { pageTexts } from '../helpers/pdf-text.ts';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { silentLogger } from '../../db/log.ts';
import { graduates, schools, users } from '../../db/schema/index.ts';
import { createApp } from '../../routes/index.ts';
import { createPdfPrinter } from '../../views/pdf.ts';
import { Client, firstStudentLogin } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertAgreement, type AgreementFixture } from '../helpers/signed-agreement.ts';

// G8: each party downloads the signed 就业协议书 as a PDF printed by Chromium, and the PDF's text
// carries the 协议编号 and the graduate's name.
const blocked: string[] = [];
const printer = createPdfPrinter({ chromiumPath: loadConfig().chromiumPath, log: silentLogger, onBlockedRequest: (url) => blocked.push(url) });
let database: TestDatabase;
let app: ReturnType<typeof createApp>;
let agreement: AgreementFixture;
let attested: AgreementFixture;

test.before(async () => {
  database = await freshDatabase();
  app = createApp({ config: loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on' }), db: database.db, log: silentLogger, pdf: printer });
  const [student] = await database.db.select({ graduateId: users.graduateId }).from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  agreement = await insertAgreement(database.db, { graduateId: student!.graduateId!, number: '2026-10001-000001', code: 'K7P3Q9XA' });
  // 示例理工大学 is in a 两方协议 province (鉴证).
  const [other] = await database.db.select({ id: graduates.id }).from(graduates).innerJoin(schools, eq(schools.id, graduates.schoolId)).where(eq(schools.code, '10002')).orderBy(graduates.id).limit(1);
  attested = await insertAgreement(database.db, { graduateId: other!.id, unitName: '申城智能制造有限公司', number: '2026-10002-000001', code: 'Z9Y8X7W6' });
});
test.after(async () => {
  await printer.close();
  await database.drop();
});

async function signIn(portal: 'employer' | 'student' | 'school', login: string, password: string): Promise<Client> {
  const c = new Client(app);
  assert.is((await c.post(`/${portal}/login`, { login, password })).status, 303);
  if (portal === 'student') assert.is((await c.post('/student/check', {})).status, 303);
  return c;
}

test('G8: the employer, the graduate and the school each download the PDF; its text has the 协议编号 and the graduate\'s name', async () => {
  const parties = [
    ['/employer', await signIn('employer', '13800000001', DEMO_PASSWORDS.employer)],
    ['/student', await signIn('student', await firstStudentLogin(database.db), DEMO_PASSWORDS.student)],
    ['/school', await signIn('school', '10001-admin', DEMO_PASSWORDS.school)],
  ] as const;
  for (const [portal, party] of parties) {
    const res = await party.get(`${portal}/agreements/${agreement.id}/document.pdf`);
    assert.is(res.status, 200, portal);
    assert.is(res.headers.get('content-type'), 'application/pdf');
    assert.is(res.headers.get('content-disposition'), `attachment; filename="agreement-${agreement.number}.pdf"; filename*=UTF-8''${encodeURIComponent(`就业协议书-${agreement.number}.pdf`)}`);
    assert.is(res.headers.get('cache-control'), 'no-store');
    assert.is(Buffer.from(res.bytes.subarray(0, 5)).toString('latin1'), '%PDF-');
    const text = pageTexts(res.bytes).join('');
    assert.not.ok(text.includes('\uFFFD'), 'every glyph maps back to its character');
    for (const expected of ['就业协议书', `协议编号${agreement.number}`, `校验码${agreement.code}`, `姓名${agreement.graduateName}`, `身份证号${agreement.idNumber}`, '甲方（用人单位）：越综合企业', '丙方（学校）：示范大学']) {
      assert.ok(text.includes(expected), `${portal}: the PDF says ${expected}`);
    }
  }
  assert.equal(blocked, [], 'the document asked for nothing but itself and its fonts');
});

test('S3 a 鉴证 school\'s PDF says 鉴证 and never 审核', async () => {
  const school = await signIn('school', '10002-admin', DEMO_PASSWORDS.school);
  const res = await school.get(`/school/agreements/${attested.id}/document.pdf`);
  assert.is(res.status, 200);
  const text = pageTexts(res.bytes).join('');
  assert.ok(text.includes('学校鉴证'), 'the approval is a 鉴证');
  assert.ok(text.includes('鉴证通过'));
  assert.not.ok(text.includes('审核'), 'no 审核 anywhere in the PDF');
});

test.run();
