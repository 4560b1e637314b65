import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { silentLogger } from '../../db/log.ts';
import { agreements, events, users } from '../../db/schema/index.ts';
import { certificateSha256, loadSigningIdentity } from '../../db/signing-identity.ts';
import { isPlatformCertificate, sealReason } from '../../domain/agreements/sealing.ts';
import { CadesSigner } from '../../domain/signing/cades.ts';
import { inspectPdfSignature } from '../../domain/signing/inspect.ts';
import { sealPdf } from '../../domain/signing/seal.ts';
import { createApp } from '../../routes/index.ts';
import { createPdfPrinter } from '../../views/pdf.ts';
import { Client, firstStudentLogin } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { makeP12, ownedBy } from '../helpers/p12.ts';
import { pageTexts } from '../helpers/pdf-text.ts';
import { pdfsig } from '../helpers/pdfsig.ts';
import { insertAgreement, type AgreementFixture } from '../helpers/signed-agreement.ts';

// Issue 15: every agreement PDF issued after every party's review is signed (PAdES) with a
// 签约完成证明 as its last page; /verify reads an uploaded copy; the CA is public; a termination
// issues a new signed revision marked 已解约 while the copy signed before stays intact.
const printer = createPdfPrinter({ chromiumPath: loadConfig().chromiumPath, log: silentLogger });
let database: TestDatabase;
let dataDir: string;
let app: ReturnType<typeof createApp>;
let agreement: AgreementFixture;
let graduate: Client;
let schoolAdmin: typeof users.$inferSelect;

test.before(async () => {
  database = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sealed-'));
  app = createApp({ config: loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on', DATA_DIR: dataDir }), db: database.db, log: silentLogger, pdf: printer });
  const [student] = await database.db.select({ graduateId: users.graduateId }).from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  agreement = await insertAgreement(database.db, { graduateId: student!.graduateId!, number: '2026-10001-700001', code: 'S7P3Q9XA' });
  // The trail's events carry where they came from, as the platform recorded it.
  await database.db.update(events).set({ ip: '203.0.113.45' }).where(eq(events.subjectId, String(agreement.id)));
  schoolAdmin = (await database.db.select().from(users).where(eq(users.login, '10001-admin')))[0]!;
  await database.db.update(events).set({ actorUserId: schoolAdmin.id }).where(and(eq(events.subjectId, String(agreement.id)), eq(events.fromState, 'school_review')));
  graduate = new Client(app);
  assert.is((await graduate.post('/student/login', { login: await firstStudentLogin(database.db), password: DEMO_PASSWORDS.student })).status, 303);
  assert.is((await graduate.post('/student/check', {})).status, 303);
});
test.after(async () => {
  await printer.close();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const download = async (client: Client, path: string) => {
  const res = await client.get(path);
  assert.is(res.status, 200, path);
  return Buffer.from(res.bytes);
};

/** /verify with a file, as the form sends it. */
async function verifyFile(bytes: Uint8Array, name = 'agreement.pdf') {
  const form = new FormData();
  form.set('pdf', new File([new Uint8Array(bytes)], name, { type: 'application/pdf' }));
  return new Client(app, '198.51.100.7').request('POST', '/verify', { multipart: form });
}

let signedCopy: Buffer;
const platformCertificate = (sha256: string) => isPlatformCertificate(database.db, sha256);

test('15: the signed agreement\'s PDF carries a valid PAdES signature over the whole file, naming the platform and the agreement, with the 签约完成证明 as its last page', async () => {
  signedCopy = await download(graduate, `/student/agreements/${agreement.id}/document.pdf`);
  const report = pdfsig(signedCopy);
  assert.match(report, 'Signature Type: ETSI.CAdES.detached');
  assert.match(report, 'Signature Validation: Signature is Valid.');
  assert.match(report, 'Total document signed');
  const signature = await inspectPdfSignature(signedCopy, platformCertificate);
  assert.ok(signature.status === 'intact' && signature.ours);
  assert.is(signature.status === 'intact' && signature.reason, `全国高校毕业生网上签约与毕业去向登记平台签发：就业协议书 ${agreement.number}（已签约）`);

  const pages = pageTexts(signedCopy);
  const last = pages.at(-1)!;
  assert.ok(pages.length >= 2);
  assert.ok(last.includes('签约完成证明'), 'the certificate is the last page');
  assert.ok(last.includes(`协议编号${agreement.number}`));
  assert.ok(last.includes('本件状态已签约'));
  assert.match(last, /SHA-256 ?[0-9a-f]{64}/, 'the content\'s SHA-256');
  assert.ok(last.includes(`院系用户203.0.113.*院系审核通过`), 'the trail: who, from where, which decision');
  assert.ok(last.includes(`学校用户${schoolAdmin.displayName}203.0.113.*学校审核通过`), 'with the account that decided');
  assert.ok(last.includes('203.0.113.*'), 'where each step came from, shortened to its network');
  assert.not.ok(last.includes('203.0.113.45'), 'never the full address');
  assert.ok(last.includes((await ca()).cert.fingerprint256), 'the CA\'s fingerprint, to compare with /verify/ca');
});

async function ca() {
  const page = await new Client(app).get('/verify/ca');
  const crt = await new Client(app).get('/verify/ca.crt');
  return { page, crt, cert: new X509Certificate(Buffer.from(crt.bytes)) };
}

test('15: the CA certificate is downloadable from a public page with its fingerprint, and the signer\'s chain verifies against it; no key material is served', async () => {
  const { page, crt, cert } = await ca();
  assert.is(page.status, 200);
  assert.is(crt.status, 200);
  assert.is(crt.headers.get('content-type'), 'application/x-x509-ca-cert');
  assert.ok(cert.ca);
  assert.is(page.doc.querySelector('#ca-fingerprint256')?.textContent, cert.fingerprint256);
  assert.is(page.doc.querySelector('#ca-download')?.getAttribute('href'), '/verify/ca.crt');
  assert.not.match(crt.text, 'PRIVATE');
  assert.not.match(page.text, 'PRIVATE');
  // The signer's certificate as the PDF carries it: issued by the downloadable CA.
  const text = signedCopy.toString('latin1');
  const [, , b, c] = (/\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]/.exec(text) ?? []).map(Number) as number[];
  const der = Buffer.from(text.slice(b! + 1, c! - 1), 'hex');
  const signer = [...new Set(Array.from(der.toString('latin1').matchAll(/\x30\x82/g), (m) => m.index))]
    .map((at) => {
      try {
        return new X509Certificate(der.subarray(at, at + 4 + der.readUInt16BE(at + 2)));
      } catch {
        return null;
      }
    })
    .find((x) => x && !x.ca);
  assert.ok(signer, 'the signature carries the signing certificate');
  assert.ok(signer!.checkIssued(cert) && signer!.verify(cert.publicKey), 'issued and signed by the downloadable CA');
  // And as a reader does it: pdfsig with the downloaded CA trusted (README, "Signed agreements").
  const trusted = pdfsig(signedCopy, { trust: crt.text });
  assert.match(trusted, 'Signature Validation: Signature is Valid.');
  assert.match(trusted, 'Certificate Validation: Certificate is Trusted.');
  assert.not.match(pdfsig(signedCopy, { trust: makeP12('x').caPem }), 'Certificate is Trusted.', 'another CA does not vouch for it');
});

test('15: /verify reads an uploaded PDF: intact and ours names the agreement and its state; one changed byte, an unsigned file or not a PDF is said plainly', async () => {
  const ok = await verifyFile(signedCopy);
  assert.is(ok.status, 200);
  assert.match(ok.doc.querySelector('#file-result h2')?.textContent ?? '', '签名有效，文件未被修改');
  assert.is(ok.doc.querySelector('#file-number')?.textContent, agreement.number);
  assert.is(ok.doc.querySelector('#file-revision')?.textContent, '已签约');
  assert.is(ok.doc.querySelector('#file-now')?.textContent, '有效');

  const changed = Buffer.from(signedCopy);
  const at = changed.indexOf('/Producer');
  changed[at + 1] = 'p'.charCodeAt(0);
  assert.not.match(pdfsig(changed), 'Signature is Valid.');
  const bad = await verifyFile(changed);
  assert.match(bad.doc.querySelector('#file-result h2')?.textContent ?? '', '签名无效');
  assert.match(bad.doc.querySelector('#file-problem')?.textContent ?? '', '签名后被修改过');
  assert.is(bad.doc.querySelector('#file-number'), null, 'nothing about the agreement for a broken file');

  const unsigned = await printer.print('<!doctype html><html><body><p>就业协议书</p></body></html>');
  assert.match((await verifyFile(unsigned)).doc.querySelector('#file-result h2')?.textContent ?? '', '未签名');
  const notPdf = await verifyFile(Buffer.from('hello'), 'a.txt');
  assert.is(notPdf.status, 422);
  assert.match(notPdf.doc.querySelector('#pdf-error')?.textContent ?? '', '不是 PDF');
  const empty = await new Client(app).request('POST', '/verify', { multipart: new FormData() });
  assert.is(empty.status, 422);
  assert.match(empty.doc.querySelector('#pdf-error')?.textContent ?? '', '请选择');
});

test('15: a terminated agreement\'s PDF is a new signed revision marked 已解约; the copy signed before stays intact, and /verify says it is now 已解约', async () => {
  await database.db.update(agreements).set({ state: 'terminated', updatedAt: new Date('2026-07-01T04:00:00Z') }).where(eq(agreements.id, agreement.id));
  const revision = await download(graduate, `/student/agreements/${agreement.id}/document.pdf`);
  assert.match(pdfsig(revision), 'Signature is Valid.');
  const signature = await inspectPdfSignature(revision, platformCertificate);
  assert.is(signature.status === 'intact' && signature.reason, `全国高校毕业生网上签约与毕业去向登记平台签发：就业协议书 ${agreement.number}（已解约）`);
  const pages = pageTexts(revision);
  assert.ok(pages[0]!.includes('已解约：本协议已于 2026-07-01 解约'), 'marked on its first page');
  assert.ok(pages.at(-1)!.includes('本件状态已解约'));
  // The same agreed content: the same SHA-256 in both revisions.
  const digest = (pdf: Buffer) => /SHA-256 ?([0-9a-f]{64})/.exec(pageTexts(pdf).at(-1)!)?.[1];
  assert.is(digest(revision), digest(signedCopy));

  assert.match(pdfsig(signedCopy), 'Signature is Valid.', 'the earlier copy is still the intact record of what was signed');
  const old = await verifyFile(signedCopy);
  assert.is(old.doc.querySelector('#file-revision')?.textContent, '已签约');
  assert.is(old.doc.querySelector('#file-now')?.textContent, '已解约（2026-07-01）');
  assert.ok(old.doc.querySelector('#file-superseded'), 'says the copy predates the termination');
  const now = await verifyFile(revision);
  assert.is(now.doc.querySelector('#file-revision')?.textContent, '已解约');
  await database.db.update(agreements).set({ state: 'signed' }).where(eq(agreements.id, agreement.id));
});

test('15: with SIGNING_P12 configured, PDFs are signed with that certificate and /verify/ca offers its CA', async () => {
  const made = makeP12('org-pass');
  const file = join(dataDir, 'org.p12');
  writeFileSync(file, made.p12);
  const configured = createApp({ config: loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on', DATA_DIR: dataDir, SIGNING_P12: file, SIGNING_P12_PASSWORD: 'org-pass' }), db: database.db, log: silentLogger, pdf: printer });
  const school = new Client(configured);
  assert.is((await school.post('/school/login', { login: '10001-admin', password: DEMO_PASSWORDS.school })).status, 303);
  const pdf = await download(school, `/school/agreements/${agreement.id}/document.pdf`);
  assert.match(pdfsig(pdf), 'Signature is Valid.');
  const orgCa = new X509Certificate(made.caPem);
  const signature = await inspectPdfSignature(pdf, ownedBy(new X509Certificate(made.certPem)));
  assert.ok(signature.status === 'intact' && signature.ours, 'signed by the configured certificate');
  assert.ok(signature.status === 'intact' && signature.signer === /CN=([^\n]*)/.exec(new X509Certificate(made.certPem).subject)![1]);
  const page = await new Client(configured).get('/verify/ca');
  assert.is(page.doc.querySelector('#ca-fingerprint256')?.textContent, orgCa.fingerprint256);
  // Both certificates have signed for this platform (signing_certificates): /verify on either knows both,
  // as it will after a renewal, or with processes that each have their own.
  const either = await verifyFile(pdf);
  assert.match(either.doc.querySelector('#file-result h2')?.textContent ?? '', '签名有效，文件未被修改');
  assert.ok(await isPlatformCertificate(database.db, certificateSha256(new X509Certificate(made.certPem).raw)));
  // A certificate that never signed here, even one the same CA issued, is not the platform's.
  const stranger = await loadSigningIdentity({ dataDir: join(dataDir, 'stranger') });
  const forged = await sealPdf(Buffer.from(pdf.subarray(0, pdf.lastIndexOf('%%EOF') + 5)), { reason: sealReason(agreement.number, 'signed'), name: 'x', location: 'x', contactInfo: 'x', signingTime: new Date() }, new CadesSigner(stranger));
  const refused = await verifyFile(forged);
  assert.match(refused.doc.querySelector('#file-result h2')?.textContent ?? '', '非本平台签名');
  assert.is(refused.doc.querySelector('#file-number'), null);
});

test('15: /verify with files counts the ones that are not intact agreements of ours against the address, like wrong codes: the eleventh is refused', async () => {
  const unsigned = await printer.print('<!doctype html><html><body><p>x</p></body></html>');
  const from = new Client(app, '198.51.100.99');
  const form = () => {
    const f = new FormData();
    f.set('pdf', new File([new Uint8Array(unsigned)], 'x.pdf', { type: 'application/pdf' }));
    return f;
  };
  for (let i = 0; i < 10; i++) assert.is((await from.request('POST', '/verify', { multipart: form() })).status, 200);
  const refused = await from.request('POST', '/verify', { multipart: form() });
  assert.is(refused.status, 429);
  assert.match(refused.doc.querySelector('#form-error')?.textContent ?? '', '查验次数过多');
  // Another address is not held up by it.
  assert.is((await verifyFile(signedCopy)).status, 200);
});

test.run();
