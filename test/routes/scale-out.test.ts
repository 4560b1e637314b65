import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { desc, eq } from 'drizzle-orm';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../../db/embedded.ts';
import { uploads, users } from '../../db/schema/index.ts';
import { makeUscc } from '../../domain/codes/uscc.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { TEST_ID_NUMBER_ENV } from '../helpers/keys.ts';
import { startProxy } from '../helpers/proxy.ts';
import { startS3 } from '../helpers/s3.ts';

// Issue 14, goal 7 (DESIGN section 10): two app processes (server.ts, as `npm start` runs it) on one
// PostgreSQL behind a round-robin proxy, each with its own DATA_DIR, so nothing can pass through a
// shared disk: sessions live in the database, files in S3-compatible storage, and every job runs
// once between them.

const SERVER = fileURLToPath(new URL('../../server.ts', import.meta.url));
type Proc = { child: ChildProcess; base: string; output: () => string; exited: Promise<unknown> };

let d: TestDatabase;
let s3: Awaited<ReturnType<typeof startS3>>;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let dirs: string[] = [];
let procs: Proc[] = [];

async function startProcess(origin: string): Promise<Proc> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'wq-scale-'));
  dirs.push(dataDir);
  const env = { ...process.env, ...TEST_ID_NUMBER_ENV, ...s3.env, DATABASE_URL: d.url, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ORIGIN: origin, DEMO: 'off', CAPTCHA: 'off', JOBS: 'on', TRUST_PROXY: 'on', LOG_LEVEL: 'debug' };
  const child = spawn(process.execPath, [SERVER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { child, base: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, output: () => string): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen:\n${output()}`);
}

const state = { cookie: '' };
const allOutput = () => procs.map((p, i) => `--- process ${i + 1}\n${p.output()}`).join('\n');

test.before(async () => {
  d = await freshDatabase();
  s3 = await startS3();
  // The proxy's address is the platform's ORIGIN; the processes behind it are its targets.
  proxy = await startProxy();
  procs = [await startProcess(proxy.url), await startProcess(proxy.url)];
  proxy.setTargets(procs.map((p) => p.base));
  for (const p of procs) await until('listening', () => (p.output().includes('"msg":"listening"') ? true : undefined), allOutput);
});

test.after(async () => {
  for (const p of procs) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  await proxy.close();
  await s3.stop();
  await d.drop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

test('a session made through one process works on the other', async () => {
  const signIn = await fetch(`${proxy.url}/employer/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: proxy.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: '13800000009', password: 'Employer#2026' }),
  });
  assert.is(signIn.status, 303, await signIn.text());
  const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  for (const p of procs) {
    const home = await fetch(`${p.base}/employer`, { headers: { cookie }, redirect: 'manual' });
    assert.is(home.status, 200, p.base);
    assert.match(await home.text(), 'verification-form');
  }
  state.cookie = cookie;
});

test('an upload stored through one process is served by the other (S3 storage, no shared disk)', async () => {
  const png = new Uint8Array(await sharp({ create: { width: 60, height: 40, channels: 3, background: '#36c' } }).png().toBuffer());
  const form = new FormData();
  const unit = { applicantName: '周人事', applicantPosition: '人事经理', applicantEmail: 'hr@example.com', unitName: '双进程测试科技有限公司', uscc: makeUscc('91110108MA02C0001'), employerType: '39', industry: '34', region: '110108', address: '北京市海淀区知春路 1 号', contactName: '周人事', contactPhone: '', contactMobile: '13912340000', contactEmail: '', method: 'documents' };
  for (const [k, v] of Object.entries(unit)) form.set(k, v);
  form.set('authorization', new File([png], '授权书.png'));
  form.set('licence', new File([png], '营业执照.png'));
  const [first, second] = procs as [Proc, Proc];
  const sent = await fetch(`${first.base}/employer/verification`, { method: 'POST', body: form, redirect: 'manual', headers: { cookie: state.cookie, origin: proxy.url } });
  assert.is(sent.status, 303, await sent.text());
  const [user] = await d.db.select().from(users).where(eq(users.login, '13800000009'));
  const [file] = await d.db.select().from(uploads).where(eq(uploads.uploadedBy, user!.id)).orderBy(desc(uploads.createdAt)).limit(1);
  const served = await fetch(`${second.base}/employer/files/${file!.id}`, { headers: { cookie: state.cookie } });
  assert.is(served.status, 200);
  // Pictures are re-encoded when stored (metadata stripped), so the stored file is compared, not the sent one.
  const bytes = Buffer.from(await served.arrayBuffer());
  assert.is(bytes.length, file!.byteSize);
  assert.is(bytes.subarray(1, 4).toString(), 'PNG');
  const again = await fetch(`${first.base}/employer/files/${file!.id}`, { headers: { cookie: state.cookie } });
  assert.ok(Buffer.from(await again.arrayBuffer()).equals(bytes), 'both processes serve the same object');
  assert.ok((await readdir(join(s3.directory, s3.bucket), { recursive: true })).some((p) => p.includes(file!.storageKey.slice(3, 35))), 'the file is in the bucket');
  for (const dir of dirs) assert.not.ok(existsSync(join(dir, 'uploads')), 'nothing on either process disk');
});

test('each job runs once between the two processes', async () => {
  // The 30-second jobs: wait for a slot both processes have come to, then count who ran it.
  type Line = { msg: string; job?: string; slot?: string };
  const lines = (p: Proc) => p.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
  const outcomes = (p: Proc) => lines(p).filter((l) => (l.msg === 'job run' || l.msg === 'job skipped') && l.job === 'roster-imports' && l.slot);
  const slot = await until(
    'a roster-imports slot seen by both processes',
    () => {
      const [a, b] = procs.map((p) => new Set(outcomes(p).map((l) => l.slot)));
      return [...a!].find((s) => b!.has(s));
    },
    allOutput,
  );
  const ran = procs.map((p) => outcomes(p).filter((l) => l.slot === slot && l.msg === 'job run').length);
  assert.is(ran[0]! + ran[1]!, 1, `slot ${slot}: ${JSON.stringify(ran)}`);
  // And over everything both processes logged: no slot of any job ran twice.
  const runs = procs.flatMap((p) => lines(p).filter((l) => l.msg === 'job run' && l.slot).map((l) => `${l.job} ${l.slot}`));
  assert.is(new Set(runs).size, runs.length, runs.join('\n'));
});

test('requests spread over both processes through the proxy', async () => {
  const before = [...proxy.served];
  const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(`${proxy.url}/employer`, { headers: { cookie: state.cookie }, redirect: 'manual' }).then((r) => r.status)));
  assert.equal([...new Set(answers)], [200]);
  assert.equal(proxy.served.map((n, i) => n - before[i]!), [20, 20]);
  assert.not.match(allOutput(), '"level":"error"');
});

test('a session signed out through one process ends on the other, which kept it (issue 14: LISTEN/NOTIFY)', async () => {
  const signIn = await fetch(`${procs[0]!.base}/employer/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: proxy.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: '13800000009', password: 'Employer#2026' }),
  });
  assert.is(signIn.status, 303);
  const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = (p: Proc) => fetch(`${p.base}/employer`, { headers: { cookie }, redirect: 'manual' });
  const home = async (p: Proc) => (await page(p)).status;
  for (const p of procs) assert.is(await home(p), 200);
  // Each process keeps the look-up: a name changed unsaid (triggers off, as a replica applies rows) does not show.
  const [user] = await d.db.select().from(users).where(eq(users.login, '13800000009'));
  await d.db.$client.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`update users set display_name = '未通知的名字' where id = ${user!.id}`;
  });
  for (const p of procs) assert.not.match(await (await page(p)).text(), '未通知的名字', `${p.base} keeps the session`);
  const out = await fetch(`${procs[0]!.base}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: proxy.url, 'content-type': 'application/x-www-form-urlencoded' } });
  assert.is(out.status, 303);
  assert.is(await home(procs[0]!), 303);
  // The other process hears of it a moment later: well before a kept look-up's 30 s would have run out.
  let refused = false;
  for (let i = 0; i < 50 && !refused; i++) {
    refused = (await home(procs[1]!)) === 303;
    if (!refused) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(refused, `the sign-out did not reach the other process within 5 s:\n${allOutput()}`);
  await d.db.update(users).set({ displayName: user!.displayName }).where(eq(users.id, user!.id));
});

test.run();
