import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { alive, freePort, postmasterPid, runningEmbeddedUrl } from '../../db/embedded.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

// The real `npm start` path: server.ts with the embedded database in a fresh DATA_DIR.
const SERVER = fileURLToPath(new URL('../../server.ts', import.meta.url));

type Started = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(s: Started, text: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!s.output().includes(text)) {
    if (Date.now() > until || s.child.exitCode !== null) throw new Error(`did not see "${text}":\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


test('config errors stop the start with a clear message', async () => {
  const s = start({ PORT: 'abc', CAPTCHA: 'sometimes', DATABASE_URL: '' });
  assert.is(await s.exited, 1);
  assert.match(s.output(), '配置错误');
  assert.match(s.output(), 'PORT="abc"');
  assert.match(s.output(), 'CAPTCHA="sometimes"');
});

test('npm start: embedded database, migrations, demo data, /healthz; SIGTERM stops everything; a second start reuses the data', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'wq-start-'));
  await chmod(parent, 0o755);
  // As on a fresh clone: DATA_DIR does not exist yet, and the start creates it (the key file first).
  const dataDir = join(parent, 'data');
  try {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), CAPTCHA: 'off', DATABASE_URL: '', DEMO: '' };
    const first = start(env);
    await waitFor(first, '"msg":"listening"');
    assert.match(first.output(), 'demo data seeded');
    assert.match(first.output(), 'CAPTCHA=off', 'a loud warning when the captcha is off');
    assert.match(first.output(), 'admin / Admin#2026');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.is(health.status, 200);
    const home = await fetch(`http://127.0.0.1:${port}/`);
    assert.match(await home.text(), '学生登录');
    assert.ok(existsSync(join(dataDir, 'pg', 'cluster', 'postmaster.pid')));
    // Issue 14: the app's pool comes through the Unix socket in DATA_DIR/pg/socket (owner-only); TCP on
    // 127.0.0.1 stays for maintenance, and this look is made over it.
    assert.is(statSync(join(dataDir, 'pg', 'socket')).mode & 0o777, 0o700);
    const maintenance = postgres(runningEmbeddedUrl(join(dataDir, 'pg'))!, { max: 1, onnotice: () => {} });
    try {
      const ours = await maintenance`select client_port from pg_stat_activity where application_name = 'wangqian'`;
      assert.ok(ours.length > 0, 'the app has connections open');
      assert.equal(ours.map((r) => r.client_port), ours.map(() => -1), 'every one through the Unix socket');
    } finally {
      await maintenance.end();
    }
    first.child.kill('SIGTERM');
    assert.is(await first.exited, 0);
    assert.match(first.output(), '"msg":"stopped"');
    assert.not.ok(existsSync(join(dataDir, 'pg', 'cluster', 'postmaster.pid')), 'the embedded database stopped cleanly');

    const second = start(env);
    await waitFor(second, '"msg":"listening"');
    assert.not.match(second.output(), 'creating a new cluster');
    assert.not.match(second.output(), 'demo data seeded');
    assert.is((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    // 13: the first start made the ID number keys (owner-only); the second read the sealed numbers with them.
    const keyFile = join(dataDir, 'keys', 'id-number-keys.json');
    assert.is(statSync(keyFile).mode & 0o777, 0o600);
    assert.match(first.output(), '已生成身份证号加密密钥', 'the first start says loudly that a key file now needs keeping');
    assert.not.match(second.output(), '已生成身份证号加密密钥');
    assert.not.match(first.output() + second.output(), /"(keys|hmac)"|base64/, 'no key material in the log');
    const signIn = await fetch(`http://127.0.0.1:${port}/student/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: `http://127.0.0.1:${port}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login: '110105200401011018', password: 'Student#2026' }),
    });
    assert.is(signIn.status, 303, 'the README graduate signs in by ID number');
    second.child.kill('SIGINT');
    assert.is(await second.exited, 0);

    // Keys that cannot open the stored numbers: the start refuses and says what to do.
    const wrongKeys = start({ ...env, ID_NUMBER_KEYS: `other:${Buffer.alloc(32, 9).toString('base64')}`, ID_NUMBER_HMAC_KEY: Buffer.alloc(32, 8).toString('base64') });
    assert.is(await wrongKeys.exited, 1);
    assert.match(wrongKeys.output(), '当前没有该密钥');
    assert.match(wrongKeys.output(), 'id-number-keys.json');
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

const CHILD = fileURLToPath(new URL('../helpers/embedded-child.ts', import.meta.url));



/** Waits for a condition itself (with a failsafe so a broken build cannot hang the suite). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 1200) throw new Error(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('kill -9 of the server: the database does not outlive it, and npm start on the same DATA_DIR comes up', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wq-crash-'));
  await chmod(dataDir, 0o755);
  try {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), CAPTCHA: 'off', DATABASE_URL: '', DEMO: '' };
    const first = start(env);
    await waitFor(first, '"msg":"listening"');
    const postmaster = postmasterPid(join(dataDir, 'pg', 'cluster'))!;
    assert.ok(alive(postmaster));
    first.child.kill('SIGKILL');
    await first.exited;
    await until(() => !alive(postmaster), 'the watchdog to stop the orphaned database');
    const second = start(env);
    await waitFor(second, '"msg":"listening"');
    assert.is((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    second.child.kill('SIGTERM');
    assert.is(await second.exited, 0);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a database left running by a killed process (no watchdog) is stopped cleanly by the next start; a live process holding the directory is named instead', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wq-leftover-'));
  await chmod(dataDir, 0o755);
  const children: ChildProcess[] = [];
  const holder = (mode: string) => {
    const child = spawn(process.execPath, [CHILD, join(dataDir, 'pg'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    return new Promise<ChildProcess>((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('READY') && resolve(child));
      child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
  };
  try {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), CAPTCHA: 'off', DATABASE_URL: '', DEMO: '' };
    // A live platform process holds the directory: the start says who, and touches nothing.
    const live = await holder('watchdog');
    const refused = start(env);
    assert.is(await refused.exited, 1);
    assert.match(refused.output(), `正被另一个运行中的平台进程 (PID ${live.pid}) 使用`);
    const postmaster = postmasterPid(join(dataDir, 'pg', 'cluster'))!;
    assert.ok(alive(postmaster), 'the live process keeps its database');
    live.kill('SIGKILL');
    await until(() => !alive(postmaster), 'the watchdog to stop the database');

    // Killed without a watchdog: its database keeps running, and the next start stops it.
    const orphaning = await holder('no-watchdog');
    const orphan = postmasterPid(join(dataDir, 'pg', 'cluster'))!;
    orphaning.kill('SIGKILL');
    await until(() => orphaning.exitCode !== null || orphaning.signalCode !== null, 'the holder to die');
    assert.ok(alive(orphan), 'the orphaned database is still running');
    const recovered = start(env);
    await waitFor(recovered, '"msg":"listening"');
    assert.match(recovered.output(), 'still running without its platform process');
    assert.not.ok(alive(orphan));
    assert.is((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    recovered.child.kill('SIGTERM');
    assert.is(await recovered.exited, 0);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    const left = postmasterPid(join(dataDir, 'pg', 'cluster'));
    if (left && alive(left)) process.kill(left, 'SIGQUIT');
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
