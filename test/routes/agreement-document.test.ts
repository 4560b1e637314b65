import { gzipSync } from 'node:zlib';
import { and, count, eq } from 'drizzle-orm';
import QRCode from 'qrcode';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { events, graduates, loginAttempts, schools, users } from '../../db/schema/index.ts';
import { VERIFY_LIMITS } from '../../domain/agreements/document.ts';
import { appOnDb, ORIGIN, setupApp, studentLogins, type Client, type TestApp } from '../helpers/app.ts';
import { textOf, type Doc } from '../helpers/html.ts';
import { insertAgreement, type AgreementFixture } from '../helpers/signed-agreement.ts';

// 就业协议书 (G8, DESIGN.md section 7) and 协议查验 (/verify, B1).
let t: TestApp;
let signed: AgreementFixture;
let underReview: AgreementFixture;
let twoParty: AgreementFixture;

/** Each approval on the document: stage, reviewer, outcome, time. */
const reviewRows = (doc: Doc) => [...doc.querySelectorAll('#agreement-reviews tr')].slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()).join(' '));


test.before(async () => {
  t = await setupApp();
  const studentGraduates = await t.db.select({ id: users.graduateId }).from(users).where(eq(users.role, 'student')).orderBy(users.id);
  const [secondSchoolGraduate] = await t.db
    .select({ id: graduates.id })
    .from(graduates)
    .innerJoin(schools, eq(schools.id, graduates.schoolId))
    .where(eq(schools.code, '10002'))
    .orderBy(graduates.id)
    .limit(1);
  // The demo graduate who signs in (计算机学院, 示范大学: department then school, 三方协议).
  signed = await insertAgreement(t.db, { graduateId: studentGraduates[0]!.id!, number: '2026-10001-000001', code: 'K7P3Q9XA' });
  // Another graduate of 示范大学, whose acceptance waits for the school's review.
  underReview = await insertAgreement(t.db, { graduateId: studentGraduates[2]!.id!, state: 'school_review', number: '2026-10001-000002', code: 'M4N8R2TW' });
  // 示例理工大学 is in a 两方协议 province and reviews alone.
  twoParty = await insertAgreement(t.db, { graduateId: secondSchoolGraduate!.id, unitName: '申城智能制造有限公司', number: '2026-10002-000001', code: 'Z9Y8X7W6' });
});
test.after(async () => {
  await t.close();
});

/** The rows of the document's tables (of one section, or all): label → value. */
function documentRows(doc: Doc, section = '#agreement-document'): Map<string, string> {
  return new Map(
    [...doc.querySelectorAll(`${section} th[scope=row]`)].map((th) => [th.textContent!.trim(), th.nextElementSibling?.textContent?.replace(/\s+/g, ' ').trim() ?? '']),
  );
}

async function signInSecondGraduate(): Promise<Client> {
  const [, second] = await studentLogins(t.db);
  const c = t.client();
  assert.is((await c.post('/student/login', { login: second!, password: DEMO_PASSWORDS.student })).status, 303);
  assert.is((await c.post('/student/check', {})).status, 303);
  return c;
}

test('G8: the employer sees the signed agreement with every field of section 7, its number, code and QR code', async () => {
  const employer = await t.signInAs('employer');
  const res = await employer.get(`/employer/agreements/${signed.id}/document`);
  assert.is(res.status, 200);
  assert.is(res.headers.get('cache-control'), 'no-store');
  assert.is(textOf(res.doc, '#agreement-number'), signed.number);
  assert.is(textOf(res.doc, '#verification-code'), signed.code);
  const expected: Record<string, Record<string, string | RegExp>> = {
    '#agreement-signing': {
      协议编号: signed.number,
      签约类型: '线上签约',
      签约状态: '已签约',
      邀约时间: '2026-05-05 16:05',
      职位类别: '工程技术人员',
      岗位名称: '软件开发工程师',
      应约有效期: '3天',
      应约截止时间: '2026-05-09 00:00',
      签约联系人: '王经理 010-88886666',
      试用期: '3个月',
      试用起薪: '8000 元',
      转正起薪: '10000 元',
      违约金: '5000 元',
      报到地点: '北京市海淀区中关村大街 100 号',
      报到期限: '2026-07-15',
      实际工作地点: '北京市海淀区',
    },
    '#agreement-unit': {
      单位名称: '越综合企业',
      统一社会信用代码: /^91110108MA01A0001.$/,
      单位性质: '其他企业（如民营企业、集体企业、个体工商户等）',
      单位行业: '信息传输、软件和信息技术服务业',
      通讯地址: '北京市海淀区',
      详细地址: '北京市海淀区中关村大街 100 号',
      单位联系人: '王经理',
      联系人电话: '010-88886666',
      联系人手机: '13911112222',
      联系人邮箱: 'hr@yue.example.com',
      单位是否解决户档: '接收',
      档案接收单位: '北京市海淀区人才服务中心',
      档案接收地址: '北京市海淀区北四环西路 1 号',
      邮政编码: '100080',
      档案接收联系人: '李老师',
      联系电话: '010-62345678',
      户口迁移地址: '北京市海淀区中关村街道',
      协议补充内容: '甲方为乙方缴纳五险一金。 乙方入职后参加岗前培训。',
    },
    '#agreement-graduate': {
      考生号: /^22\d{12}$/,
      姓名: signed.graduateName,
      性别: /^[男女]$/,
      身份证号: signed.idNumber,
      民族: /族$/,
      政治面貌: /\S/,
      出生日期: /^\d{4}-\d{2}-\d{2}$/,
      毕业院校: '示范大学',
      院系: '计算机学院',
      学历层次: '本科',
      专业: /\S/,
      培养方式: '非定向',
      生源所在地: /^北京市/,
      学号: /^\d+$/,
      学制: '4年',
      入学时间: '2022-09',
      毕业时间: '2026-06',
      手机号码: /^1\d{10}$/,
      电子邮箱: /@stu\.example\.edu\.cn$/,
    },
    '#agreement-school': { 学校名称: '示范大学', 经办人: '陈老师', 联系电话: '010-62750001', 通讯地址: '北京市海淀区示范路 1 号 示范大学学生就业指导中心', 邮政编码: '100871' },
  };
  for (const [section, fields] of Object.entries(expected)) {
    const rows = documentRows(res.doc, section);
    for (const [label, value] of Object.entries(fields)) {
      if (typeof value === 'string') assert.is(rows.get(label), value, `${section} ${label}`);
      else assert.match(rows.get(label) ?? '', value, `${section} ${label}`);
    }
  }
  assert.ok(res.doc.querySelector('#agreement-qr svg path'), 'the QR code is inline SVG');
  assert.is(res.doc.querySelector('#download-pdf')?.getAttribute('href'), 'document.pdf');
});

test('section 7: the QR code opens /verify with this number and code, on the configured ORIGIN, or without it the address the server was started for, never the request\'s Host', async () => {
  const qrOf = (origin: string) => QRCode.toString(`${origin}/verify?no=${signed.number}&code=${signed.code}`, { type: 'svg', errorCorrectionLevel: 'M', margin: 0, width: 160 });
  const employer = await t.signInAs('employer');
  const started = t.config.linkOrigin;
  assert.is(started, `http://localhost:${t.config.port}`);
  assert.ok((await employer.get(`/employer/agreements/${signed.id}/document`)).text.includes(await qrOf(started)));
  // A forged Host header changes nothing.
  const forged = await t.app.request(`http://evil.example/employer/agreements/${signed.id}/document`, { headers: { host: 'evil.example', cookie: [...employer.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  const forgedText = await forged.text();
  assert.is(forged.status, 200);
  assert.ok(forgedText.includes(await qrOf(started)));
  assert.not.match(forgedText, 'evil.example');

  const configured = appOnDb(t.db, { ORIGIN: 'https://wq.example.edu.cn' });
  const c = configured.client();
  assert.is((await c.post('/employer/login', { login: '13800000001', password: DEMO_PASSWORDS.employer }, { origin: 'https://wq.example.edu.cn' })).status, 303);
  const res = await c.get(`/employer/agreements/${signed.id}/document`);
  assert.ok(res.text.includes(await qrOf('https://wq.example.edu.cn')));
  assert.match(textOf(res.doc, '#agreement-verify')!, 'https://wq.example.edu.cn/verify');
});

test('G8 三方协议: parties 甲方 乙方 丙方 and the review chain 院系审核 then 学校审核 with their dates', async () => {
  const school = await t.signInAs('school');
  const res = await school.get(`/school/agreements/${signed.id}/document`);
  assert.is(res.status, 200);
  const parties = textOf(res.doc, '#agreement-parties')!;
  assert.match(parties, '甲方（用人单位）：越综合企业');
  assert.match(parties, `乙方（毕业生）：${signed.graduateName}`);
  assert.match(parties, '丙方（学校）：示范大学');
  assert.not.ok(res.doc.querySelector('#attestation'));
  assert.equal(reviewRows(res.doc), ['院系审核 计算机学院 通过 2026-05-07 09:30', '学校审核 示范大学 通过 2026-05-08 11:00']);
  assert.match(textOf(res.doc, '#agreement-completed')!, '审核通过，于 2026-05-08 11:00 签约完成');
});

test('S3 两方协议: the school attests (鉴证) instead of signing as 丙方', async () => {
  const school2 = await t.signInAs('school2');
  const res = await school2.get(`/school/agreements/${twoParty.id}/document`);
  assert.is(res.status, 200);
  assert.match(textOf(res.doc, '#attestation')!, '鉴证方（学校）：示例理工大学');
  assert.not.match(textOf(res.doc, '#agreement-parties')!, '丙方');
  assert.match(textOf(res.doc, '#agreement-school h2')!, '鉴证方');
  assert.equal(reviewRows(res.doc), ['学校鉴证 示例理工大学 通过 2026-05-08 11:00']);
  assert.match(textOf(res.doc, '#agreement-completed')!, '鉴证通过');
});

test('G8: the graduate and the graduate\'s department see the same document', async () => {
  for (const [account, path] of [['student', '/student'], ['department', '/school']] as const) {
    const c = await t.signInAs(account);
    const res = await c.get(`${path}/agreements/${signed.id}/document`);
    assert.is(res.status, 200, account);
    assert.is(textOf(res.doc, '#agreement-number'), signed.number);
    assert.is(textOf(res.doc, '#verification-code'), signed.code);
    assert.is(documentRows(res.doc).get('身份证号'), signed.idNumber);
    assert.ok(res.doc.querySelector('#agreement-qr svg'));
  }
});

test('section 4: a view by the unit or a reviewer is logged as an ID-number reveal; the graduate\'s own view is not', async () => {
  const reveals = () =>
    t.db
      .select({ role: events.actorRole })
      .from(events)
      .where(and(eq(events.action, 'graduate.id_number_revealed'), eq(events.subjectId, String(signed.graduateId))))
      .orderBy(events.id);
  const before = (await reveals()).length;
  await (await t.signInAs('student')).get(`/student/agreements/${signed.id}/document`);
  assert.is((await reveals()).length, before);
  await (await t.signInAs('employer')).get(`/employer/agreements/${signed.id}/document`);
  assert.equal((await reveals()).slice(before).map((r) => r.role), ['employer']);
});

test('tenancy: another unit, another school, the other department and another graduate get 404', async () => {
  for (const [account, path] of [['employer2', '/employer'], ['school2', '/school'], ['department2', '/school']] as const) {
    const c = await t.signInAs(account);
    for (const suffix of ['document', 'document.pdf']) {
      const res = await c.get(`${path}/agreements/${signed.id}/${suffix}`);
      assert.is(res.status, 404, `${account} ${suffix}`);
      assert.not.ok(res.text.includes(signed.graduateName));
    }
  }
  const other = await signInSecondGraduate();
  assert.is((await other.get(`/student/agreements/${signed.id}/document`)).status, 404);
  assert.is((await other.get(`/student/agreements/${signed.id}/document.pdf`)).status, 404);
  const school = await t.signInAs('school');
  assert.is((await school.get(`/school/agreements/${twoParty.id}/document`)).status, 404);
  assert.is((await school.get('/school/agreements/999999/document')).status, 404);
});

test('G8: an agreement not yet signed has no document; its parties are told why, others get 404', async () => {
  const school = await t.signInAs('school');
  for (const suffix of ['document', 'document.pdf']) {
    const res = await school.get(`/school/agreements/${underReview.id}/${suffix}`);
    assert.is(res.status, 409);
    assert.match(textOf(res.doc, '#error')!, '签约完成后才能查看就业协议书');
    assert.not.ok(res.doc.querySelector('#agreement-document'));
  }
  const employer2 = await t.signInAs('employer2');
  assert.is((await employer2.get(`/employer/agreements/${underReview.id}/document`)).status, 404);
});

test('budget: the preview page weighs at most 14 KB gzipped', async () => {
  const graduate = await t.signInAs('student');
  const res = await graduate.get(`/student/agreements/${signed.id}/document`);
  const size = gzipSync(res.bytes).length;
  assert.ok(size <= 14 * 1024, `${size} bytes`);
  assert.not.ok(/<style|style=/.test(res.text), 'no inline styles: the CSP allows only our stylesheet');
});

test('/verify: the form; the right number and code show 有效, the signing date and the names of school and unit — nothing about the graduate', async () => {
  const visitor = t.client('198.51.100.1');
  const form = await visitor.get('/verify');
  assert.is(form.status, 200);
  assert.ok(form.doc.querySelector('#verify-form input[name=no]') && form.doc.querySelector('#verify-form input[name=code]'));
  assert.not.ok(form.doc.querySelector('#verify-result'));

  for (const code of [signed.code, signed.code.toLowerCase()]) {
    const res = await visitor.get(`/verify?no=${encodeURIComponent(signed.number)}&code=${code}`);
    assert.is(res.status, 200);
    const result = textOf(res.doc, '#verify-result')!;
    assert.match(result, '查验结果：有效');
    assert.match(result, signed.number);
    assert.match(result, '2026-05-08');
    assert.match(result, '示范大学');
    assert.match(result, '越综合企业');
    for (const personal of [signed.graduateName, signed.idNumber, signed.idNumber.slice(-4), '计算机学院', '软件开发工程师']) {
      assert.not.ok(res.text.includes(personal), `the page does not show ${personal}`);
    }
  }
});

test('/verify: a wrong code, an unknown number and an agreement not yet signed all answer 不存在, alike', async () => {
  const visitor = t.client('198.51.100.2');
  const answers = [];
  for (const [no, code] of [
    [signed.number, 'WRONG000'],
    ['2026-10001-999999', signed.code],
    [underReview.number, underReview.code],
  ]) {
    const res = await visitor.get(`/verify?no=${encodeURIComponent(no!)}&code=${code}`);
    assert.is(res.status, 200);
    answers.push(textOf(res.doc, '#verify-result'));
    assert.not.ok(res.text.includes('越综合企业'));
  }
  assert.match(answers[0]!, '查验结果：不存在');
  assert.equal(answers, [answers[0], answers[0], answers[0]]);
  const missing = await visitor.get(`/verify?no=${encodeURIComponent(signed.number)}&code=`);
  assert.is(missing.status, 422);
  assert.is(textOf(missing.doc, '#code-error'), '请输入校验码');
});

test('/verify: an IP guessing pairs is stopped after the limit, even for a right pair; other IPs are not', async () => {
  const guesser = t.client('203.0.113.9');
  const guesses = await Promise.all(Array.from({ length: VERIFY_LIMITS.perIp }, (_, i) => guesser.get(`/verify?no=${encodeURIComponent(signed.number)}&code=GUESS${String(i).padStart(3, '0')}`)));
  assert.ok(guesses.every((r) => r.status === 200 && textOf(r.doc, '#verify-result')!.includes('不存在')));
  const stopped = await guesser.get(`/verify?no=${encodeURIComponent(signed.number)}&code=${signed.code}`);
  assert.is(stopped.status, 429);
  assert.match(textOf(stopped.doc, '#form-error')!, '查验次数过多');
  assert.not.ok(stopped.doc.querySelector('#verify-result'));
  const neighbour = await t.client('203.0.113.10').get(`/verify?no=${encodeURIComponent(signed.number)}&code=${signed.code}`);
  assert.match(textOf(neighbour.doc, '#verify-result')!, '有效');
  const signIn = await guesser.post('/employer/login', { login: '13800000002', password: 'Employer#2026' });
  assert.is(signIn.status, 303, 'guesses at /verify do not lock the office out of signing in');
  const [counted] = await t.db.select({ n: count() }).from(loginAttempts).where(and(eq(loginAttempts.purpose, 'agreement_verify'), eq(loginAttempts.succeeded, false)));
  assert.ok(counted!.n >= VERIFY_LIMITS.perIp, 'the failures are counted in PostgreSQL, for every process');
});

test('/verify: right answers do not use up the limit', async () => {
  const checker = t.client('198.51.100.3');
  for (let i = 0; i < VERIFY_LIMITS.perIp + 2; i++) {
    const res = await checker.get(`/verify?no=${encodeURIComponent(signed.number)}&code=${signed.code}`);
    assert.is(res.status, 200);
  }
});

test.run();
