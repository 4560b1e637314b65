import { inflateSync } from 'node:zlib';
import { eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { silentLogger } from '../../db/log.ts';
import { users } from '../../db/schema/index.ts';
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

test.before(async () => {
  database = await freshDatabase();
  app = createApp({ config: loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on' }), db: database.db, log: silentLogger, pdf: printer });
  const [student] = await database.db.select({ graduateId: users.graduateId }).from(users).where(eq(users.role, 'student')).orderBy(users.id).limit(1);
  agreement = await insertAgreement(database.db, { graduateId: student!.graduateId!, number: '2026-10001-000001', code: 'K7P3Q9XA' });
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

type PdfObject = { dict: string; stream: Buffer | undefined };

/** The numbered objects of a PDF as Chromium (Skia) writes it: no object streams, direct /Length. */
function pdfObjects(pdf: Buffer): Map<number, PdfObject> {
  const text = pdf.toString('latin1');
  const objects = new Map<number, PdfObject>();
  for (const m of text.matchAll(/(\d+) 0 obj\s*/g)) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endobj', start);
    const streamAt = text.indexOf('stream', start);
    if (streamAt === -1 || streamAt > end) {
      objects.set(Number(m[1]), { dict: text.slice(start, end), stream: undefined });
      continue;
    }
    const dict = text.slice(start, streamAt);
    const dataStart = streamAt + (text.startsWith('stream\r\n', streamAt) ? 8 : 7);
    const length = Number(/\/Length (\d+)/.exec(dict)?.[1]);
    objects.set(Number(m[1]), { dict, stream: pdf.subarray(dataStart, dataStart + length) });
  }
  return objects;
}

const refs = (dict: string, key: string) => [...(new RegExp(`/${key}\\s*(\\[[^\\]]*\\]|\\d+ 0 R)`).exec(dict)?.[1] ?? '').matchAll(/(\d+) 0 R/g)].map((r) => Number(r[1]));
const inflated = (o: PdfObject | undefined) => (o?.stream ? inflateSync(o.stream).toString('latin1') : '');

/** A font's glyph → text map, from its ToUnicode CMap. */
function toUnicode(cmap: string): Map<number, string> {
  const utf16 = (hex: string) => String.fromCharCode(...(hex.match(/.{4}/g) ?? []).map((h) => Number.parseInt(h, 16)));
  const map = new Map<number, string>();
  for (const [, section = ''] of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, from = '', to = ''] of section.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(Number.parseInt(from, 16), utf16(to));
  }
  for (const [, section = ''] of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, lo = '', hi = '', to = ''] of section.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) {
      for (let g = Number.parseInt(lo, 16); g <= Number.parseInt(hi, 16); g++) map.set(g, String.fromCodePoint(Number.parseInt(to, 16) + g - Number.parseInt(lo, 16)));
    }
  }
  return map;
}

/**
 * The text each page draws, in drawing order: every `<glyphs> Tj` of its content streams read
 * through the ToUnicode map of the font selected by the `Tf` before it. Chromium draws a table
 * cell's text as one run, so a value appears whole.
 */
function pageTexts(pdf: Uint8Array): string[] {
  const objects = pdfObjects(Buffer.from(pdf));
  const catalog = [...objects.values()].find((o) => /\/Type\s*\/Pages\b/.test(o.dict))!;
  return refs(catalog.dict, 'Kids').map((pageId) => {
    const page = objects.get(pageId)!.dict;
    const fonts = new Map([.../\/Font\s*<<([^>]*)>>/.exec(page)![1]!.matchAll(/\/(\w+)\s+(\d+) 0 R/g)].map(([, name, id]) => [name!, toUnicode(inflated(objects.get(refs(objects.get(Number(id))!.dict, 'ToUnicode')[0]!)))]));
    let font = new Map<number, string>();
    let text = '';
    for (const content of refs(page, 'Contents').map((id) => inflated(objects.get(id)))) {
      for (const [, name, glyphs] of content.matchAll(/\/(\w+)\s+[\d.]+\s+Tf|<([0-9a-fA-F]*)>\s*Tj/g)) {
        if (name) font = fonts.get(name) ?? new Map();
        else text += (glyphs!.match(/.{4}/g) ?? []).map((g) => font.get(Number.parseInt(g, 16)) ?? '\uFFFD').join('');
      }
    }
    return text;
  });
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

test.run();
