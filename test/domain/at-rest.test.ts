import { createServer, type Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exposedGc, releaseMemoryAtRest, watchRequests } from '../../db/at-rest.ts';

// Issue 14, goal 5: once the platform is quiet, node gives its heap's unused pages back (one
// memory-reducing collection), once per spell of work, never under a request in flight. The clock
// and the collection are the test's: nothing waits on time.

function clocked() {
  let t = 1_000_000;
  const calls: unknown[] = [];
  const atRest = releaseMemoryAtRest({ collect: (o) => void calls.push(o), quietMs: 30_000, everyMs: 3_600_000, now: () => t });
  return { atRest, calls, pass: (ms: number) => void (t += ms) };
}

test('memory at rest: after start-up and after each spell of requests, one last-resort collection once quiet for 30 s', () => {
  const { atRest, calls, pass } = clocked();
  try {
    assert.not.ok(atRest.check(), 'not before 30 s');
    pass(30_000);
    assert.ok(atRest.check(), 'start-up (migrations, demo data) is collected at the first rest');
    assert.equal(calls, [{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
    pass(600_000);
    assert.not.ok(atRest.check(), 'nothing served since: no second collection');
    atRest.begin();
    atRest.end();
    pass(29_999);
    assert.not.ok(atRest.check(), 'quiet for less than 30 s');
    pass(1);
    assert.ok(atRest.check());
    assert.is(calls.length, 2);
  } finally {
    atRest.stop();
  }
});

test('memory at rest: a request in flight longer than the quiet time holds the collection off until it ends', () => {
  const { atRest, calls, pass } = clocked();
  try {
    atRest.begin();
    pass(120_000);
    assert.not.ok(atRest.check(), 'a long download is still in flight');
    atRest.end();
    pass(30_000);
    assert.ok(atRest.check());
    assert.is(calls.length, 1);
  } finally {
    atRest.stop();
  }
});

test('memory at rest: without --expose-gc nothing is collected; npm start passes the flag, and node then has gc()', () => {
  const atRest = releaseMemoryAtRest({ collect: undefined, quietMs: 0 });
  try {
    assert.not.ok(atRest.check());
  } finally {
    atRest.stop();
  }
  const start = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start;
  assert.match(start, /--expose-gc/);
  const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', "const { exposedGc } = await import(process.argv[1]); process.stdout.write(typeof exposedGc());", new URL('../../db/at-rest.ts', import.meta.url).href], { encoding: 'utf8' });
  assert.is(child.stdout, 'function', child.stderr);
  assert.is(exposedGc(), typeof (globalThis as { gc?: unknown }).gc === 'function' ? (globalThis as { gc?: unknown }).gc : undefined);
});

test('memory at rest: a real server\'s requests mark the platform busy from their start to their response\'s end', async () => {
  const marks: string[] = [];
  const server: Server = createServer((_req, res) => {
    marks.push('handled');
    res.end('ok');
  });
  watchRequests(server, { begin: () => void marks.push('begin'), end: () => void marks.push('end'), check: () => false, stop: () => {} });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.is(await res.text(), 'ok');
    // The response's close follows its end on the server's side: wait for it, not for time.
    for (let i = 0; i < 1000 && !marks.includes('end'); i++) await new Promise((r) => setImmediate(r));
    // The app's handler is the server's first listener, ours the next: both run as the request arrives.
    assert.equal(marks, ['handled', 'begin', 'end']);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test.run();
