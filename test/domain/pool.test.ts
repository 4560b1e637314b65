import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { eq, sql as sqlTag } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { apart, connect, pipelined, sentWithCommit, statementOnce, unixSocketOf, type Db } from '../../db/client.ts';
import { socketDirFor } from '../../db/embedded.ts';
import * as schema from '../../db/schema/index.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

// Issue 14, memory at rest: the app's pool gives its connections back when idle, so PostgreSQL does
// not keep a backend process per pool slot forever. (The app uses 60 s; this pool 1 s.)
let d: TestDatabase;
test.before(async () => {
  d = await freshDatabase();
});
test.after(async () => {
  await d.drop();
});

/** The backend a statement sent through `on` ran on. */
const pid = async (on: Pick<Db, 'execute'>) => Number(((await on.execute(sqlTag`select pg_backend_pid() as pid`)) as unknown as Array<{ pid: number }>)[0]!.pid);

test('an idle pool closes its connections, and opens one again on the next query', async () => {
  const pool = connect(d.url, 4, 1);
  const ours = async () => {
    const [row] = await d.db.$client`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'wangqian' and pid <> pg_backend_pid() and backend_type = 'client backend'`;
    return row!.n as number;
  };
  const baseline = await ours(); // the test's own pool (application_name wangqian as well)
  try {
    await Promise.all(Array.from({ length: 4 }, () => pool.$client`select pg_sleep(0.05)`));
    assert.ok((await ours()) - baseline >= 2, 'busy: several connections open');
    for (let i = 0; (await ours()) > baseline; i++) {
      if (i > 600) throw new Error('the idle connections were never closed');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [{ one }] = (await pool.$client`select 1 as one`) as unknown as [{ one: number }];
    assert.is(one, 1);
  } finally {
    await pool.$client.end();
  }
});

test('transactions on a busy, pipelining pool each run on a connection of their own and leave none open (db/client.ts reserves it first)', async () => {
  // The shape of the upstream report (porsager/postgres#823): a small pool with a short pipeline kept
  // busy, queries and transactions fired together. It did not fail here with sql.begin either (the
  // mixed-load bench did, once, at 400 req/s); this holds the reserved path to its promises.
  const sql = postgres(d.url, { max: 3, max_pipeline: 2, onnotice: () => {} } as postgres.Options<{}>);
  const db = drizzle(sql, { schema }) as unknown as Db;
  try {
    for (let round = 0; round < 5; round++) {
      const busy = Array.from({ length: 3 }, () => sql`select pg_sleep(0.05)`);
      const plain = Array.from({ length: 6 }, () => sql`select 1`);
      const transactions = Array.from({ length: 5 }, (_, i) => db.transaction(async (tx) => (await tx.execute(sqlTag`select txid_current() as x, ${i}::int as i`))[0]));
      const settled = await Promise.allSettled([...busy, ...plain, ...transactions]);
      const failed = settled.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      assert.equal(failed, [], `round ${round}`);
      // Each transaction ran in one of its own: five distinct transaction ids.
      const ids = settled.slice(9).map((r) => String(((r as PromiseFulfilledResult<unknown>).value as { x: string }).x));
      assert.is(new Set(ids).size, 5);
    }
    // Nothing was left open on the server.
    const [{ n }] = (await d.db.$client`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`) as unknown as [{ n: number }];
    assert.is(n, 0);
  } finally {
    await sql.end();
  }
});

test('pipelined statements of a transaction reach PostgreSQL together and in the order given, and a failure rolls the whole back after every one settled', async () => {
  const db = d.db;
  await db.$client`create table if not exists pipelined_probe (n int)`;
  await db.$client`create sequence if not exists pipelined_seq`;
  // The order refreshDestination relies on (its advisory lock, then its statement): statements of one
  // kind start in the order given. nextval numbers them as PostgreSQL ran them.
  const numbers = await db.transaction((tx) => pipelined(...Array.from({ length: 8 }, () => tx.execute(sqlTag`select nextval('pipelined_seq')::int as n`))));
  const ran = numbers.map((r) => (r as unknown as Array<{ n: number }>)[0]!.n);
  assert.equal(ran, [...ran].sort((a, b) => a - b));
  // One transaction: every statement sees the same transaction id, and BEGIN went out with the first.
  const ids = await db.transaction((tx) => pipelined(tx.execute(sqlTag`select txid_current()::text as x`), tx.execute(sqlTag`select txid_current()::text as x`)));
  assert.is((ids[0] as unknown as Array<{ x: string }>)[0]!.x, (ids[1] as unknown as Array<{ x: string }>)[0]!.x);
  // A failing statement among them: the error is thrown once all settled, and nothing is kept.
  let failed: unknown;
  try {
    await db.transaction((tx) => pipelined(tx.execute(sqlTag`insert into pipelined_probe values (1)`), tx.execute(sqlTag`select 1 / 0`), tx.execute(sqlTag`insert into pipelined_probe values (2)`)));
  } catch (e) {
    failed = e;
  }
  assert.match(String((failed as { cause?: unknown }).cause ?? failed), /division by zero/);
  const [{ n }] = (await db.$client`select count(*)::int as n from pipelined_probe`) as unknown as [{ n: number }];
  assert.is(n, 0, 'rolled back');
  const [{ open }] = (await db.$client`select count(*)::int as open from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`) as unknown as [{ open: number }];
  assert.is(open, 0);
});

test('issue 14: statements sent with the commit are not waited for by the transaction\'s code, run in order before the COMMIT that follows them, and a failure among them fails and rolls back the whole with its own error', async () => {
  const db = d.db;
  await db.$client`create table if not exists with_commit_probe (n int)`;
  // The first statement waits for an advisory lock another session holds: the transaction's code goes
  // on without its answer, and a later read in the transaction still sees what it wrote.
  const holder = await db.$client.reserve();
  await holder`select pg_advisory_lock(42, 1)`;
  let codeDone = false;
  let committed: Promise<string>;
  try {
    committed = db.transaction(async (tx) => {
      await sentWithCommit(tx, tx.execute(sqlTag`select pg_advisory_xact_lock(42, 1)`), tx.execute(sqlTag`insert into with_commit_probe values (1)`));
      codeDone = true;
      return 'done';
    });
    // Once PostgreSQL shows the statement waiting for the lock, the transaction's code has finished.
    const waiting = async () => Number(((await db.$client`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`) as unknown as [{ n: number }])[0].n);
    while ((await waiting()) === 0) await new Promise((r) => setTimeout(r, 5));
    assert.ok(codeDone, 'the code went on while the statement waits');
    const [{ seen }] = (await db.$client`select count(*)::int as seen from with_commit_probe`) as unknown as [{ seen: number }];
    assert.is(seen, 0, 'not committed while its first statement waits');
  } finally {
    await holder`select pg_advisory_unlock(42, 1)`;
    holder.release();
  }
  assert.is(await committed, 'done');
  const [{ kept }] = (await db.$client`select count(*)::int as kept from with_commit_probe`) as unknown as [{ kept: number }];
  assert.is(kept, 1, 'committed');
  const read = await db.transaction(async (tx) => {
    await sentWithCommit(tx, tx.execute(sqlTag`insert into with_commit_probe values (2)`));
    return (await tx.execute(sqlTag`select count(*)::int as n from with_commit_probe`)) as unknown as Array<{ n: number }>;
  });
  assert.is(read[0]!.n, 2, 'a read after it in the transaction sees it');
  // A failure among them: the transaction fails with that error, not with the "transaction is
  // aborted" of what came after it, whether the code went on to other statements or not.
  /** What a transaction failed with, as text (drizzle's error names its cause), or null when it committed. */
  const failureOf = (run: Parameters<typeof db.transaction>[0]) =>
    db.transaction(run).then(
      () => null,
      (e: { cause?: unknown }) => String(e.cause ?? e),
    );
  for (const after of [false, true]) {
    const failed = await failureOf(async (tx) => {
      await sentWithCommit(tx, tx.execute(sqlTag`insert into with_commit_probe values (3)`), tx.execute(sqlTag`select 1 / 0`));
      if (after) await tx.execute(sqlTag`insert into with_commit_probe values (4)`);
    });
    assert.match(String(failed), /division by zero/);
  }
  // One that fails before it reaches PostgreSQL (refused as it is built: an invalid date) has not
  // aborted the transaction there: the transaction is rolled back, not committed without it.
  const refused = await failureOf(async (tx) => {
    await sentWithCommit(tx, tx.execute(sqlTag`insert into with_commit_probe values (5)`), tx.update(schema.sessions).set({ expiresAt: new Date(NaN) }).where(sqlTag`false`));
  });
  assert.ok(refused, 'the transaction failed');
  // A call handed over that sends a second statement: that one would come after the COMMIT, and is refused.
  const second = await failureOf(async (tx) => {
    await sentWithCommit(
      tx,
      (async () => {
        await tx.execute(sqlTag`insert into with_commit_probe values (6)`);
        await tx.execute(sqlTag`insert into with_commit_probe values (7)`);
      })(),
    );
  });
  assert.match(String(second), /after its COMMIT/);
  const [{ n }] = (await db.$client`select count(*)::int as n from with_commit_probe where n in (3, 4, 5, 7)`) as unknown as [{ n: number }];
  assert.is(n, 0, 'no failed transaction kept anything, and nothing ran outside one');
  const [{ open }] = (await db.$client`select count(*)::int as open from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`) as unknown as [{ open: number }];
  assert.is(open, 0);
});

test('statements outside a transaction share the lanes and go out together; transactions, $client and apart(db) take connections of the pool, so a transaction that reads outside itself never waits for itself', async () => {
  const db = connect(d.url, 1, 60, 1);
  try {
    // Ten statements sent at once: one lane, one backend, and a failing one fails alone.
    const sent = await Promise.allSettled([...Array.from({ length: 9 }, () => pid(db)), db.execute(sqlTag`select 1 / 0`)]);
    const lanePids = new Set(sent.slice(0, 9).map((r) => (r as PromiseFulfilledResult<number>).value));
    assert.is(lanePids.size, 1);
    assert.is(sent[9]!.status, 'rejected');
    const [lane] = [...lanePids];
    assert.is(await pid(db), lane, 'the lane is still usable');
    // The pool's one connection, held by a transaction that reads outside it: with one pool this
    // would wait for itself; the read goes to the lane.
    const inside = await db.transaction(async (tx) => ({ tx: await pid(tx), outside: await pid(db) }));
    assert.is.not(inside.tx, lane);
    // The lane, or the pool of reads should the lane have learned the statement as long (one slow
    // answer on a busy machine, as in CI beside the browser tests): never the transaction's own.
    assert.is.not(inside.outside, inside.tx);
    assert.is.not(await pid(apart(db)), lane);
    const [row] = await db.$client`select pg_backend_pid() as pid`;
    assert.is.not(Number(row!.pid), lane);
  } finally {
    await db.$client.end();
  }
});

test('a read that took long is sent to connections of its own next time, not a lane, where what is sent behind it would wait', async () => {
  const db = connect(d.url, 2, 60, 1);
  // Long whatever the machine: a few million rows counted (well over the lanes' 5 ms).
  const long = async () => Number(((await db.execute(sqlTag`select count(*) as n, pg_backend_pid() as pid from generate_series(1, 3000000)`)) as unknown as Array<{ pid: number }>)[0]!.pid);
  try {
    const lane = await pid(db);
    assert.is(await long(), lane, 'unknown, it went to the lane');
    assert.is.not(await long(), lane, 'known long, it went elsewhere');
    assert.is(await pid(db), lane, 'short statements stay on the lane');
  } finally {
    await db.$client.end();
  }
});

test('a statement postgres.js cannot encode (an undefined parameter) is refused before it is queued, so the statements around it on a lane keep their own answers', async () => {
  const db = connect(d.url, 2, 60, 1);
  const numbered = (n: number) => db.execute(sqlTag`select ${n}::int as n, count(*) as c from generate_series(1, 200000)`);
  try {
    // eq(column, undefined), an optional filter left unset, is sent by drizzle as an undefined parameter.
    const settled = await Promise.allSettled([numbered(1), db.select({ id: schema.schools.id }).from(schema.schools).where(eq(schema.schools.id, undefined as never)), numbered(3)]);
    assert.is(settled[1]!.status, 'rejected');
    assert.match(String((settled[1] as PromiseRejectedResult).reason?.cause ?? (settled[1] as PromiseRejectedResult).reason), /undefined/);
    const rowsOf = (r: PromiseSettledResult<unknown>) => (r as PromiseFulfilledResult<unknown>).value as Array<{ n: number }>;
    assert.is(rowsOf(settled[0]!)[0]!.n, 1);
    assert.is(rowsOf(settled[2]!)[0]!.n, 3);
    // Later statements on the lane are answered, and with their own rows.
    const [after] = (await numbered(4)) as unknown as Array<{ n: number }>;
    assert.is(after!.n, 4);
    // In a transaction too (a reserved connection).
    const refused = await db.transaction((tx) => pipelined(tx.execute(sqlTag`select 1`), tx.select({ id: schema.schools.id }).from(schema.schools).where(eq(schema.schools.id, undefined as never)))).then(
      () => null,
      (e: { cause?: unknown }) => String(e.cause ?? e),
    );
    assert.match(String(refused), /undefined/);
  } finally {
    await db.$client.end();
  }
});

test('a write outside a transaction goes to the pool, not a lane: waiting for a transaction\'s row lock there, it holds up nothing that transaction then reads', async () => {
  await d.db.$client`create table if not exists lane_probe (id int primary key, n int)`;
  await d.db.$client`insert into lane_probe values (1, 0) on conflict do nothing`;
  const db = connect(d.url, 2, 60, 1);
  try {
    const lane = await pid(db);
    const [written] = (await db.execute(sqlTag`update lane_probe set n = n + 1 where id = 1 returning pg_backend_pid() as pid`)) as unknown as Array<{ pid: number }>;
    assert.is.not(Number(written!.pid), lane, 'the update ran on the pool');
    // A WITH that writes goes to the pool too, and so does a locking read; a WITH that only reads takes the lane.
    const [cte] = (await db.execute(sqlTag`with w as (update lane_probe set n = n where id = 1 returning id) select pg_backend_pid() as pid from w`)) as unknown as Array<{ pid: number }>;
    assert.is.not(Number(cte!.pid), lane, 'a writing WITH ran on the pool');
    const [locking] = (await db.execute(sqlTag`select pg_backend_pid() as pid from lane_probe where id = 1 for key share`)) as unknown as Array<{ pid: number }>;
    assert.is.not(Number(locking!.pid), lane, 'a locking read ran on the pool');
    const [read] = (await db.execute(sqlTag`with r as (select n from lane_probe where id = 1) select pg_backend_pid() as pid, (select updated from (select 1 as updated) u) from r`)) as unknown as Array<{ pid: number }>;
    assert.is(Number(read!.pid), lane, 'a WITH that only reads (a column named updated_at or updated is no write) took the lane');
    // A transaction locks the row; an update outside it waits for the lock; the transaction then
    // reads outside itself (on the lane) before it commits. Had the update gone to the lane, the read
    // would have queued behind it and neither would ever finish.
    let waiting: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.execute(sqlTag`update lane_probe set n = n + 1 where id = 1`);
      waiting = Promise.resolve(db.execute(sqlTag`update lane_probe set n = n + 1 where id = 1`)); // sent now (drizzle's statements wait to be awaited)
      for (let i = 0; ; i++) {
        const [row] = await d.db.$client`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'update lane_probe%'`;
        if (row!.n > 0) break;
        if (i > 3000) throw new Error('the update never waited for the lock');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.is(await pid(db), lane);
    });
    await waiting;
    const [row] = await d.db.$client`select n from lane_probe where id = 1`;
    assert.is(row!.n, 3);
  } finally {
    await db.$client.end();
  }
});

test('issue 14: statementOnce builds a raw statement once per shape, and runs it with each call\'s values on each handle\'s own connection, a transaction\'s too', async () => {
  let built = 0;
  const squares = statementOnce<{ n: number; doubled: number | null }, 'plain' | 'doubled'>((shape) => {
    built++;
    return sqlTag`with s as (select g::int as n from generate_series(1, ${sqlTag.placeholder('upTo')}::int) g) select n, ${shape === 'doubled' ? sqlTag`n * ${sqlTag.placeholder('factor')}::int` : sqlTag`null::int`} as doubled from s order by n`;
  });
  assert.equal([...(await squares(d.db, { upTo: 2 }, 'plain'))], [{ n: 1, doubled: null }, { n: 2, doubled: null }]);
  assert.equal([...(await squares(d.db, { upTo: 3 }, 'plain'))].map((r) => r.n), [1, 2, 3]);
  assert.equal([...(await squares(d.db, { upTo: 2, factor: 10 }, 'doubled'))], [{ n: 1, doubled: 10 }, { n: 2, doubled: 20 }]);
  assert.is(built, 2, 'one build per shape');
  await d.db.transaction(async (tx) => assert.equal([...(await squares(tx, { upTo: 1 }, 'plain'))], [{ n: 1, doubled: null }]));
  assert.is(built, 2, 'a transaction runs the same build');
  // A value left out is refused, not sent as null.
  const refused = await squares(d.db, { upTo: 2 }, 'doubled').then(() => null, (e: unknown) => String(e));
  assert.match(refused ?? 'answered', 'factor');

  // Each handle's statements run on its own connection: in a transaction, on the transaction's (it
  // sees its own uncommitted row; two transactions at once each see only their own), and a locking
  // read of a lane's handle goes to its pool, as drizzle would have sent it; another database's
  // handle reads its own database.
  await d.db.$client`create table if not exists once_probe (id int primary key)`;
  const seen = statementOnce<{ ids: number[]; pid: number }, 'read' | 'lock'>((shape) =>
    shape === 'read' ? sqlTag`select coalesce(array_agg(id order by id), '{}')::int[] as ids, pg_backend_pid() as pid from once_probe` : sqlTag`select array[id]::int[] as ids, pg_backend_pid() as pid from once_probe where id = ${sqlTag.placeholder('id')}::int for update`,
  );
  const gate = Promise.withResolvers<void>();
  const inTx = (id: number) =>
    d.db.transaction(async (tx) => {
      await tx.execute(sqlTag`insert into once_probe values (${id})`);
      const [own] = await seen(tx, {}, 'read');
      const [txPid] = (await tx.execute(sqlTag`select pg_backend_pid() as pid`)) as unknown as Array<{ pid: number }>;
      await gate.promise;
      const [locked] = await seen(tx, { id }, 'lock');
      await tx.execute(sqlTag`delete from once_probe where id = ${id}`);
      return { own: own!.ids, pid: Number(own!.pid), txPid: Number(txPid!.pid), locked: locked!.ids };
    });
  const [first, second] = [inTx(1), inTx(2)];
  gate.resolve();
  const [a, b] = await Promise.all([first, second]);
  assert.equal([a.own, b.own], [[1], [2]], 'each transaction sees its own row only');
  assert.is(a.pid, a.txPid);
  assert.is(b.pid, b.txPid);
  assert.equal([a.locked, b.locked], [[1], [2]]);
  assert.equal((await seen(d.db, {}, 'read'))[0]!.ids, [], 'outside, neither row was ever committed');
  const lanes = connect(d.url, 2, 60, 1);
  const other = await freshDatabase();
  try {
    const lane = await pid(lanes);
    assert.is(Number((await seen(lanes, {}, 'read'))[0]!.pid), lane, 'a plain read on the lane');
    await lanes.$client`insert into once_probe values (3)`;
    assert.is.not(Number((await seen(lanes, { id: 3 }, 'lock'))[0]!.pid), lane, 'a locking read on the pool');
    await other.db.$client`create table once_probe (id int primary key)`;
    await other.db.$client`insert into once_probe values (7)`;
    assert.equal((await seen(other.db, {}, 'read'))[0]!.ids, [7], 'another database\'s handle reads its own');
  } finally {
    await d.db.$client`delete from once_probe`;
    await lanes.$client.end();
    await other.drop();
  }
});

test('a URL names a Unix socket as libpq does (?host=/directory); postgres.js is given its path', () => {
  assert.equal(unixSocketOf('postgres://u:p%40w@localhost:5433/db?host=%2Fvar%2Frun%2Fpostgresql'), { url: 'postgres://u:p%40w@localhost:5433/db', path: '/var/run/postgresql/.s.PGSQL.5433' });
  assert.equal(unixSocketOf('postgres://u:p@db.example:5432/db?sslmode=require&host=/run/pg/'), { url: 'postgres://u:p@db.example:5432/db?sslmode=require', path: '/run/pg/.s.PGSQL.5432' });
  assert.equal(unixSocketOf('postgres://u:p@localhost/db'), { url: 'postgres://u:p@localhost/db' });
  // Several hosts, as postgres.js takes them (not a URL to node), pass unchanged.
  assert.equal(unixSocketOf('postgres://u:p@h1:5432,h2:5433/db'), { url: 'postgres://u:p@h1:5432,h2:5433/db' });
});

test('the embedded server\'s socket sits in DATA_DIR/pg/socket, unless its address would be too long or the path needs quoting (then TCP alone)', () => {
  assert.is(socketDirFor('/srv/wangqian/data/pg', 54321), '/srv/wangqian/data/pg/socket');
  assert.is(socketDirFor(`/srv/${'a'.repeat(80)}/pg`, 54321), null, 'over the 107 bytes of a socket address');
  assert.is(socketDirFor('/srv/my data,1/pg', 54321), null, 'a space or comma would need quoting in unix_socket_directories');
});

test.run();
