import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

test('config errors stop the start with a clear message', async () => {
  const s = start({ PORT: 'abc', CAPTCHA: 'sometimes', DATABASE_URL: '' });
  assert.is(await s.exited, 1);
  assert.match(s.output(), '配置错误');
  assert.match(s.output(), 'PORT="abc"');
  assert.match(s.output(), 'CAPTCHA="sometimes"');
});

test('npm start: embedded database, migrations, demo data, /healthz; SIGTERM stops everything; a second start reuses the data', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wq-start-'));
  await chmod(dataDir, 0o755);
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
    first.child.kill('SIGTERM');
    assert.is(await first.exited, 0);
    assert.match(first.output(), '"msg":"stopped"');
    assert.not.ok(existsSync(join(dataDir, 'pg', 'cluster', 'postmaster.pid')), 'the embedded database stopped cleanly');

    const second = start(env);
    await waitFor(second, '"msg":"listening"');
    assert.not.match(second.output(), 'creating a new cluster');
    assert.not.match(second.output(), 'demo data seeded');
    assert.is((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    second.child.kill('SIGINT');
    assert.is(await second.exited, 0);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
