import { eq, sql } from 'drizzle-orm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger } from '../../db/log.ts';
import { devMessages, outbox, sessions, users } from '../../db/schema/index.ts';
import { createSession, sessionIdOf } from '../../domain/auth/sessions.ts';
import { cleanupJob } from '../../jobs/cleanup.ts';
import { dispatchOutboxJob, MAX_ATTEMPTS, retryDelayMs } from '../../jobs/dispatch-outbox.ts';
import { runJobOnce, startJobs, type Job } from '../../jobs/scheduler.ts';
import type { Logger } from '../../db/log.ts';
import { devTransport } from '../../jobs/transports/dev.ts';
import type { Transport } from '../../jobs/transports/types.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
test.before(async () => {
  d = await freshDatabase();
});
test.after(async () => {
  await d.drop();
});

test('outbox: due messages go through the transport once and are marked sent', async () => {
  await d.db.insert(outbox).values([
    { channel: 'sms', recipient: '13900000001', body: '您有新的签约邀请' },
    { channel: 'email', recipient: 'a@example.edu.cn', subject: '通知', body: '审核结果' },
    { channel: 'sms', recipient: '13900000002', body: '稍后', nextAttemptAt: sql`now() + interval '1 hour'` },
  ]);
  const dev = devTransport(d.db);
  const job = dispatchOutboxJob({ sms: dev, email: dev, wechat: dev }, d.db);
  assert.ok(await runJobOnce(d.db, job, silentLogger));
  assert.ok(await runJobOnce(d.db, job, silentLogger), 'a second run is harmless');
  // Different recipients' messages go out side by side, so the mailbox's order across them is not kept.
  const mailbox = await d.db.select().from(devMessages).orderBy(devMessages.id);
  assert.equal(mailbox.map((m) => m.recipient).sort(), ['13900000001', 'a@example.edu.cn']);
  const rows = await d.db.select().from(outbox).orderBy(outbox.id);
  assert.equal(rows.map((r) => r.status), ['sent', 'sent', 'pending']);
});

test('outbox: a run goes on batch after batch while messages are due, each batch in its own transaction, each message sent once', async () => {
  await d.db.delete(outbox);
  await d.db.delete(devMessages);
  // 120 due (more than two batches of 50), as a busy hour of decisions queues them.
  // Every fourth goes to one graduate, whose messages must arrive in the order they were queued.
  await d.db.insert(outbox).values(Array.from({ length: 120 }, (_, i) => ({ channel: 'sms' as const, recipient: i % 4 === 0 ? '13911112222' : `139${String(i).padStart(8, '0')}`, body: `第${i}条`, nextAttemptAt: sql`now() - make_interval(secs => ${120 - i})` })));
  const dev = devTransport(d.db);
  let sends = 0;
  const counted: Transport = { send: (m) => (sends++, dev.send(m)) };
  const job = dispatchOutboxJob({ sms: counted, email: counted, wechat: counted }, d.db);
  assert.ok(await runJobOnce(d.db, job, silentLogger));
  assert.is(sends, 120);
  const rows = await d.db.select({ status: outbox.status, attempts: outbox.attempts }).from(outbox);
  assert.ok(rows.every((r) => r.status === 'sent' && r.attempts === 1));
  const delivered = await d.db.select().from(devMessages).orderBy(devMessages.id);
  assert.is(new Set(delivered.map((m) => m.body)).size, 120, 'each message once');
  const one = delivered.filter((m) => m.recipient === '13911112222').map((m) => Number(/第(\d+)条/.exec(m.body)![1]));
  assert.equal(one, Array.from({ length: 30 }, (_, k) => k * 4), 'one recipient\'s messages in their order');
  assert.ok(await runJobOnce(d.db, job, silentLogger));
  assert.is(sends, 120, 'a second run finds nothing due');
});

test('outbox: a failing transport retries with backoff and gives up after the last attempt', async () => {
  await d.db.delete(outbox);
  const [m] = await d.db.insert(outbox).values({ channel: 'sms', recipient: '13900000003', body: 'x' }).returning();
  const broken: Transport = { send: async () => Promise.reject(new Error('gateway down')) };
  const job = dispatchOutboxJob({ sms: broken, email: broken, wechat: broken }, d.db);
  await runJobOnce(d.db, job, silentLogger);
  let [row] = await d.db.select().from(outbox).where(eq(outbox.id, m!.id));
  assert.is(row!.status, 'pending');
  assert.is(row!.attempts, 1);
  assert.match(row!.lastError!, 'gateway down');
  const delay = row!.nextAttemptAt.getTime() - Date.now();
  assert.ok(delay > 50_000 && delay <= retryDelayMs(1), `backoff ${delay}`);
  assert.ok(retryDelayMs(2) > retryDelayMs(1));
  await d.db.update(outbox).set({ attempts: MAX_ATTEMPTS - 1, nextAttemptAt: sql`now()` }).where(eq(outbox.id, m!.id));
  await runJobOnce(d.db, job, silentLogger);
  [row] = await d.db.select().from(outbox).where(eq(outbox.id, m!.id));
  assert.is(row!.status, 'failed');
});

test('jobs: two processes starting the same job at once run it once (advisory lock)', async () => {
  let runs = 0;
  const slow: Job = {
    name: 'slow-test',
    schedule: '* * * * *',
    async run(tx) {
      runs++;
      await tx.execute(sql`select pg_sleep(0.3)`);
    },
  };
  const results = await Promise.all([runJobOnce(d.db, slow, silentLogger), runJobOnce(d.db, slow, silentLogger)]);
  assert.equal(results.sort(), [false, true]);
  assert.is(runs, 1);
});

test('jobs: a slot another process has run is skipped, however late this process comes to it (job_runs)', async () => {
  let runs = 0;
  const quick: Job = { name: 'quick-test', schedule: '* * * * *', run: async () => void runs++ };
  const slot = new Date('2026-12-02T08:00:00Z');
  // The advisory lock alone lets a process that comes after the first run ended run it again.
  assert.ok(await runJobOnce(d.db, quick, silentLogger, slot), 'the first process runs the slot');
  assert.not.ok(await runJobOnce(d.db, quick, silentLogger, slot), 'a second process coming to the same slot later skips it');
  assert.not.ok(await runJobOnce(d.db, quick, silentLogger, new Date('2026-12-02T07:59:00Z')), 'an earlier slot (a clock behind) is not run again');
  assert.ok(await runJobOnce(d.db, quick, silentLogger, new Date('2026-12-02T08:01:00Z')), 'the next slot runs');
  assert.is(runs, 2);
  const [row] = await d.db.execute<{ slot: Date; ranBy: string }>(sql`select slot, ran_by as "ranBy" from job_runs where name = 'quick-test'`);
  assert.is(new Date(row!.slot).toISOString(), '2026-12-02T08:01:00.000Z');
  assert.match(row!.ranBy, /:\d+$/);

  // A slot stored in the future (a process whose clock ran ahead) does not stop the others.
  await d.db.execute(sql`update job_runs set slot = now() + interval '1 day' where name = 'quick-test'`);
  assert.ok(await runJobOnce(d.db, quick, silentLogger, new Date()), 'a run after a clock that ran ahead');
  runs--;

  // A failed run gives its slot back: the next process to come to it runs it.
  const failing: Job = { name: 'failing-test', schedule: '* * * * *', run: async () => { runs++; throw new Error('boom'); } };
  await runJobOnce(d.db, failing, silentLogger, slot).catch(() => {});
  const retry: Job = { ...failing, run: async () => void runs++ };
  assert.ok(await runJobOnce(d.db, retry, silentLogger, slot));
});

test('jobs: many processes racing for one slot run it once', async () => {
  let runs = 0;
  const job: Job = { name: 'race-test', schedule: '* * * * *', run: async () => void runs++ };
  const slot = new Date('2026-12-02T09:00:00Z');
  // Staggered, so some come after the first run's transaction has committed and the lock is free.
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => new Promise((r) => setImmediate(r)).then(() => (i % 2 ? runJobOnce(d.db, job, silentLogger, slot) : d.db.execute(sql`select 1`).then(() => runJobOnce(d.db, job, silentLogger, slot))))));
  assert.is(results.filter(Boolean).length, 1);
  assert.is(runs, 1);
});

test('jobs: a slot that comes while the previous run is still under way is skipped, said as a debug line of the app\'s log, not on the console', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const job: Job = { name: 'test-overlap', schedule: '* * * * * *', run: () => held };
  let said!: (fields: Record<string, unknown>) => void;
  const skipped = new Promise<Record<string, unknown>>((resolve) => (said = resolve));
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const log: Logger = {
    debug: (msg, fields) => {
      lines.push(['debug', msg, fields]);
      if (msg === 'cron' && /overlap/.test(String(fields?.message))) said(fields!);
    },
    info: (msg, fields) => lines.push(['info', msg, fields]),
    warn: (msg, fields) => lines.push(['warn', msg, fields]),
    error: (msg, fields) => lines.push(['error', msg, fields]),
  };
  const printed: unknown[] = [];
  const console_ = { log: console.log, warn: console.warn, error: console.error, info: console.info };
  console.log = console.warn = console.error = console.info = (...args: unknown[]) => void printed.push(args);
  const jobs = startJobs(d.db, [job], log);
  try {
    const fields = await skipped;
    assert.is(fields.job, 'test-overlap');
  } finally {
    Object.assign(console, console_);
    release();
    await jobs.stop();
  }
  assert.equal(printed, []);
  assert.not.ok(lines.some(([level]) => level === 'warn' || level === 'error'), JSON.stringify(lines));
});

test('cleanup: expired and long-idle sessions are deleted, live ones stay', async () => {
  const [u] = await d.db.select().from(users).limit(1);
  const meta = { ip: null, userAgent: null };
  const live = await createSession(d.db, u!.id, meta);
  await createSession(d.db, u!.id, meta, new Date(Date.now() - 13 * 3600 * 1000));
  const idle = await createSession(d.db, u!.id, meta);
  await d.db.update(sessions).set({ lastSeenAt: sql`now() - interval '3 hours'` }).where(eq(sessions.id, sessionIdOf(idle.token)));
  await runJobOnce(d.db, cleanupJob, silentLogger);
  const left = await d.db.select({ id: sessions.id }).from(sessions);
  assert.equal(left, [{ id: sessionIdOf(live.token) }]);
});

test.run();
