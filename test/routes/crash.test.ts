import { spawn, type ChildProcess } from 'node:child_process';
import { TEST_ID_NUMBER_ENV } from '../helpers/keys.ts';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { graduates, users } from '../../db/schema/index.ts';
import { DEMO_PASSWORDS } from '../../db/demo.ts';
import { freePort } from '../../db/embedded.ts';
import { ABANDONED_AFTER_MS } from '../../domain/idempotency.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertAgreement } from '../helpers/signed-agreement.ts';

// Issue 13, standing tests: the crash test. The real server (server.ts) takes concurrent review
// decisions and is killed with SIGKILL in the middle of them; restarted on the same data, the
// invariants hold: G4, every state change has its event row and every event its state, every queued
// message is delivered or waiting to be retried, no upload without its file; and the decisions the
// crash cut off can be made again.
const SERVER = fileURLToPath(new URL('../../server.ts', import.meta.url));
let d: TestDatabase;
let dataDir: string;
test.before(async () => {
  d = await freshDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'wq-crash-'));
});
test.after(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await d.drop();
});


async function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, ...TEST_ID_NUMBER_ENV, DATABASE_URL: d.url, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', CAPTCHA: 'off', DEMO: 'off', JOBS: 'on', ORIGIN: `http://127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => out.includes('"msg":"listening"') && resolve());
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return child;
}

async function signIn(base: string): Promise<string> {
  const res = await fetch(`${base}/school/login`, { method: 'POST', redirect: 'manual', headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ login: '10001-admin', password: DEMO_PASSWORDS.school }) });
  assert.is(res.status, 303);
  return res.headers.getSetCookie()[0]!.split(';')[0]!;
}

const approve = (base: string, cookie: string, id: number) =>
  fetch(`${base}/school/agreements/${id}/review`, { method: 'POST', redirect: 'manual', headers: { origin: base, cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ decision: 'approve', _idem: `crash-${id}-aaaaaaaa` }) }).then(
    (r) => r.status,
    () => 0, // the connection died with the server
  );

async function invariants(): Promise<string[]> {
  const q = d.db.$client;
  const problems: string[] = [];
  const g4 = await q`select graduate_id from agreements where state in ('department_review', 'school_review', 'signed') group by 1 having count(*) > 1`;
  if (g4.length) problems.push(`G4: ${g4.length} graduates with two active agreements`);
  const unlogged = await q`select a.id from agreements a where a.state = 'signed' and not exists (select 1 from events e where e.subject_type = 'agreement' and e.subject_id = a.id::text and e.to_state = 'signed')`;
  if (unlogged.length) problems.push(`signed without its event: ${unlogged.map((r) => r.id).join(', ')}`);
  const ghost = await q`select e.subject_id from events e join agreements a on a.id::text = e.subject_id where e.subject_type = 'agreement' and e.action = 'agreement.approve' and e.to_state = 'signed' and a.state <> 'signed'`;
  if (ghost.length) problems.push(`an approval event without its state: ${ghost.map((r) => r.subject_id).join(', ')}`);
  const stuck = await q`select id from outbox where status not in ('pending', 'sent')`;
  if (stuck.length) problems.push(`outbox rows neither delivered nor retrying: ${stuck.length}`);
  const orphans = await q`select id, storage_key from uploads`;
  const files = new Set((await readdir(join(dataDir, 'uploads'), { recursive: true }).catch(() => [] as string[])).map(String));
  for (const u of orphans) if (!files.has(String(u.storage_key))) problems.push(`upload ${u.id} without its file`);
  return problems;
}

test('kill -9 in the middle of concurrent review decisions: restarted on the same data the invariants hold, and the cut-off decisions go through', async () => {
  // 40 agreements waiting for the school's decision, each of its own graduate.
  const [school] = await d.db.select().from(users).where(eq(users.login, '10001-admin'));
  const roster = await d.db.select().from(graduates).where(and(eq(graduates.schoolId, school!.schoolId!), eq(graduates.trainingMode, '1'))).orderBy(graduates.id).limit(40);
  const ids: number[] = [];
  for (const [i, g] of roster.entries()) ids.push((await insertAgreement(d.db, { graduateId: g.id, state: 'school_review', number: `W10001202600${String(100 + i).padStart(5, '0')}`, code: `CRASH${String(i).padStart(3, '0')}` })).id);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const first = await startServer(port);
  const cookie = await signIn(base);
  // Ten at a time; the server dies once the first decisions are through.
  const results: Promise<number>[] = [];
  let killed = false;
  for (const id of ids) {
    results.push(
      approve(base, cookie, id).then((status) => {
        if (!killed && status === 303) {
          killed = true;
          first.kill('SIGKILL');
        }
        return status;
      }),
    );
    if (results.length % 10 === 0) await Promise.race(results);
  }
  const statuses = await Promise.all(results);
  await new Promise((r) => (first.exitCode !== null || first.signalCode !== null ? r(null) : first.once('exit', r)));
  assert.ok(killed, 'the server was killed mid-way');
  assert.ok(statuses.some((s) => s === 0), 'some decisions were cut off');

  assert.equal(await invariants(), [], 'invariants right after the crash');
  const second = await startServer(port);
  try {
    const again = await signIn(base);
    // Every decision, sent again with its own form key: a finished one answers as before; one the
    // crash cut off is still "in progress" (409) until the request timeout has passed, then runs.
    const retried = await Promise.all(ids.map((id) => approve(base, again, id)));
    assert.ok(retried.every((s) => s === 303 || s === 409), `retries answered ${[...new Set(retried)].join(', ')}`);
    await d.db.$client`update idempotency_keys set created_at = created_at - make_interval(secs => ${ABANDONED_AFTER_MS / 1000}) where status is null`;
    const afterTimeout = await Promise.all(ids.map((id) => approve(base, again, id)));
    // 303: decided now; 409: the crash had already committed this decision before its answer was
    // sent, and the page says it is decided. Either way it happened exactly once (below).
    assert.ok(afterTimeout.every((s) => s === 303 || s === 409), `after the timeout: ${[...new Set(afterTimeout)].join(', ')}`);
    const [{ n }] = (await d.db.$client`select count(*)::int as n from agreements where id = any(${ids}) and state = 'signed'`) as unknown as [{ n: number }];
    assert.is(n, ids.length, 'every agreement is signed once the decisions went through');
    const [{ events }] = (await d.db.$client`select count(*)::int as events from events where subject_type = 'agreement' and subject_id = any(${ids.map(String)}) and action = 'agreement.approve'`) as unknown as [{ events: number }];
    assert.is(events, ids.length, 'one approval event per agreement, none twice');
    assert.equal(await invariants(), [], 'invariants after the restart');
  } finally {
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
  }
});

test.run();
