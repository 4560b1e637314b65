import { sql } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../config.ts';
import { createLogger, redact } from '../../db/log.ts';
import { makeIdNumber } from '../../domain/codes/id-number.ts';
import { createApp } from '../../routes/index.ts';
import { createPdfPrinter } from '../../views/pdf.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

// Issue 13, defect 4: personal data and secrets are redacted at the logger, so no call site can
// forget: a forced database failure whose query carries an ID number, a phone and a password hash
// logs none of them.
let d: TestDatabase;
test.before(async () => {
  d = await freshDatabase();
});
test.after(async () => {
  await d.drop();
});

const ID = makeIdNumber('110105', '2002-05-06', 102, '2');
const EIGHTEEN_DIGITS = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/;

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger('debug', (l) => lines.push(l)) };
}

test('a failed query\'s parameters (ID number, phone, password hash) are masked in its log line; what identifies the failure stays', async () => {
  const { lines, log } = capture();
  const error = await d.db.execute(sql`select ${ID}::int, ${'13912345678'}::int, ${'$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'}::int`).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error, 'the query fails');
  assert.match(String(error), ID, 'the raw error carries the ID number');
  log.error('roster import failed', { importId: 7, error: String(error), stack: (error as Error).stack });
  const line = lines.join('\n');
  assert.not.match(line, EIGHTEEN_DIGITS);
  assert.not.match(line, '13912345678');
  assert.not.match(line, 'argon2id$v');
  assert.match(line, `${ID.slice(0, 6)}********${ID.slice(14)}`);
  assert.match(line, '139****5678');
  assert.match(line, 'roster import failed');
  assert.match(line, '"importId":7');
});

test('an ID number after a newline or a tab in a value (escaped by JSON) is masked too', () => {
  const { lines, log } = capture();
  log.error('import row failed', { row: `行3:\n${ID}\t13912345678\r\n`, message: `a\t${ID}\tb` });
  assert.not.match(lines[0]!, ID);
  assert.not.match(lines[0]!, '13912345678');
});

test('fields named like secrets are redacted whatever their value; an old 15-digit ID number is masked too', () => {
  const { lines, log } = capture();
  log.info('sign-in', { password: 'hunter2', session_token: 'abc', nested: { cookie: 'wq_session=xyz', authorization: 'Bearer q' }, login: '110105720506102' });
  const line = lines[0]!;
  for (const secret of ['hunter2', '"abc"', 'xyz', 'Bearer q', '110105720506102']) assert.not.match(line, secret);
  assert.is(redact('Authorization: Bearer eyJhbGciOi.abc'), 'Authorization: Bearer [redacted]');
});

test('an unhandled error in a request, thrown by a failing query with an ID number, is logged without it', async () => {
  const { lines, log } = capture();
  const config = loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on' });
  const pdf = createPdfPrinter({ chromiumPath: config.chromiumPath, log });
  const app = createApp({ config, db: d.db, log, pdf });
  app.get('/forced-failure', async () => {
    await d.db.execute(sql`select ${ID}::int`);
    return new Response('unreachable');
  });
  const res = await app.request('/forced-failure');
  assert.is(res.status, 500);
  assert.not.match(await res.text(), ID);
  const logged = lines.filter((l) => l.includes('unhandled error'));
  assert.is(logged.length, 1);
  assert.not.match(lines.join('\n'), EIGHTEEN_DIGITS);
  await pdf.close();
});

test.run();
