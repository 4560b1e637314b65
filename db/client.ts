import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { PostgresJsSession, PostgresJsTransaction } from 'drizzle-orm/postgres-js/session';
import postgres from 'postgres';
import type { SQL } from 'drizzle-orm';
import { checkIdNumberKeys, sealIdNumbersAtRest } from '../domain/graduates/id-numbers-at-rest.ts';
import * as schema from './schema/index.ts';
import { ChangeFeed } from './changes.ts';

export type Db = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };
/** A transaction handle has the same query API as the database. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/**
 * Drizzle's queries as named prepared statements (issue 14). drizzle asks postgres.js to prepare only
 * queries built with `.prepare(name)`; the rest went unnamed, so PostgreSQL parsed and planned each
 * one every time and postgres.js spent a round trip describing it first. postgres.js keeps one
 * statement per query text and connection (connections live 30–60 minutes). A text that varies with
 * the data (drizzle's inArray writes one parameter per item) would keep one statement per list
 * length: queries with more than PREPARED_PARAMS_UP_TO parameters stay unnamed, and the hot lists
 * pass their lists as one array parameter (domain/paging.ts). The session class serves transactions too.
 */
const PREPARED_PARAMS_UP_TO = 64;
const prepareQuery = PostgresJsSession.prototype.prepareQuery as (...args: unknown[]) => unknown;
type Session = PostgresJsSession<postgres.Sql, Record<string, never>, never>;
Object.assign(PostgresJsSession.prototype, {
  prepareQuery(this: Session, query: { sql: string; params: unknown[] }, fields: unknown, name: string | undefined, ...rest: unknown[]) {
    // On a lane (see connect) only what cannot wait for a lock: a write goes to the pool.
    const pool = HOLDING.get(this.client);
    const session = pool === undefined || isLaneRead(query.sql) ? this : onPool(this, pool);
    return prepareQuery.call(session, query, fields, name ?? (query.params.length <= PREPARED_PARAMS_UP_TO ? '' : undefined), ...rest);
  },
});

/**
 * A plain read, which waits for no row lock. Anything else sent outside a transaction (an insert, an
 * update, a delete, a WITH that writes, a locking read) may wait for a transaction's lock, and on a
 * lane what was sent after it would wait too: among it, perhaps a statement that transaction is
 * waiting for. A select that sleeps, sets session state or writes (set_config, nextval, SELECT INTO)
 * is no plain read either. A WITH that only reads is one (the review page's flags): any of the words
 * insert, update, delete or merge in it sends it to the pool, as a locking clause does.
 */
const LANE_READ = /^\s*(?:select|with)\b(?![^]*\b(?:insert|update|delete|merge|for\s+(?:key\s+)?share)\b)(?![^]*(?:advisory|\b(?:set_config|pg_sleep|nextval|setval|lo_\w+|into)\b))/i;
// The answer per statement text, kept: the expression reads the whole text twice, on every
// statement of every request (issue 14, about 1% of a list page's CPU). Texts come from our code, a
// few hundred of them; should ever more come, the kept answers start afresh.
const laneReads = new Map<string, boolean>();
/**
 * A write that no trigger tells other processes of (db/changes.ts): straight into a table without
 * triggers and whose rows nothing cascades from, so the change feed need not hear it before the
 * next request is served (issue 14: every form's idempotency key is claimed and settled).
 */
const QUIET_WRITE = /^(?:insert\s+into|update|delete\s+from)\s+"?(?:idempotency_keys|outbox|job_runs)(?:"|\s)/i;
/** Whether a statement may change what the process keeps from other processes' changes. */
const mayTell = (text: string) => !isLaneRead(text) && !QUIET_WRITE.test(text);
function isLaneRead(text: string): boolean {
  let read = laneReads.get(text);
  if (read === undefined) {
    if (laneReads.size >= 5000) laneReads.clear();
    laneReads.set(text, (read = LANE_READ.test(text)));
  }
  return read;
}
const sessionsOnPool = new WeakMap<Session, Session>();
function onPool(session: Session, pool: postgres.Sql): Session {
  let other = sessionsOnPool.get(session);
  if (other === undefined) sessionsOnPool.set(session, (other = Object.create(session, { client: { value: pool } }) as Session));
  return other;
}

/**
 * `run` in a transaction on a connection reserved first, then BEGIN on it. postgres.js's sql.begin
 * (which drizzle and our backups used) can in 3.4.9 send BEGIN without reserving the connection when
 * the pool is busy (porsager/postgres#823, #1189, unmerged fixes): the request fails with
 * UNSAFE_TRANSACTION, and the server-side transaction stays open on a connection back in the pool,
 * where unrelated queries then run inside it. The mixed-load bench hit it at 400 req/s. sql.reserve()
 * hands over an idle connection before anything is sent. `mode`: what follows BEGIN, e.g.
 * 'isolation level repeatable read read only'.
 */
export async function reservedTransaction<T>(sql: postgres.Sql, mode: string, run: (tx: postgres.ReservedSql) => Promise<T>): Promise<T> {
  const reserved = await sql.reserve();
  const send = reserved.unsafe.bind(reserved);
  // A transaction that wrote tells the pool's change feed when it commits (connect).
  const wrote = WROTE.get(sql);
  let writes = false;
  // What sentWithCommit handed over (and whether one of them failed already), and how many
  // statements were made and have gone to the connection.
  const pending: Pending = { statements: [], failed: false };
  let [made, handed, committing] = [0, 0, false];
  PENDING.set(reserved, pending);
  reserved.unsafe = ((text: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    // A statement made once the COMMIT is on its way would run outside the transaction.
    if (committing) throw new Error('a statement of a transaction made after its COMMIT was sent (sentWithCommit takes one statement per call it is given)');
    writes ||= mayTell(text);
    made++;
    const query = send(text, params as never, options);
    // postgres.js gives a statement to the connection a microtask after it is started (Query.handle).
    const q = query as unknown as { handler: ((q: unknown) => unknown) & { debug?: unknown } };
    const handler = q.handler;
    q.handler = Object.assign((x: unknown) => (handed++, handler(x)), { debug: handler.debug });
    return query;
  }) as typeof reserved.unsafe;
  try {
    // BEGIN goes out with the transaction's first statement (one round trip, not two): the reserved
    // connection runs what it is sent in order. It is awaited before COMMIT, so a BEGIN that failed
    // fails the whole (a live connection does not refuse a BEGIN; a dead one fails everything sent).
    const begun = send(`begin ${mode.replace(/[^a-z ]/gi, '')}`).execute();
    begun.catch(() => undefined);
    try {
      const result = await run(reserved);
      await begun;
      if (pending.statements.length === 0) await send('commit');
      else {
        // COMMIT follows what was sent with it on the connection, once each has gone (a few microtasks
        // at most). One that failed before it reached PostgreSQL (refused as it was built, or never
        // sent) has not aborted the transaction there: then it is rolled back instead.
        for (let i = 0; i < 8 && handed < made; i++) await null;
        if (pending.failed || handed < made) throw new Error('a statement sent with the commit did not go out');
        committing = true;
        const committed = send('commit').execute();
        committed.catch(() => undefined);
        const failed = (await Promise.allSettled(pending.statements)).find((r) => r.status === 'rejected');
        const answer = await committed;
        // A statement that failed aborted the transaction: its COMMIT was a ROLLBACK.
        if (failed) throw failed.reason;
        if (answer.command !== 'COMMIT') throw new Error(`the transaction's COMMIT answered ${answer.command}`);
      }
      if (writes) wrote?.();
      return result;
    } catch (e) {
      // A statement sent with the commit that failed is why whatever came after it failed too.
      const first = (await Promise.allSettled(pending.statements)).find((r) => r.status === 'rejected');
      await send('rollback').catch(() => undefined);
      throw first ? first.reason : e;
    }
  } finally {
    reserved.release();
  }
}

type Pending = { statements: Array<Promise<unknown>>; failed: boolean };
const PENDING = new WeakMap<object, Pending>();

/**
 * Statements of a transaction whose answers nothing in it reads (issue 14): sent now, and the
 * transaction's COMMIT goes out right behind them instead of one round trip later; the transaction
 * fails with the first of them that fails (PostgreSQL rolls it back: the COMMIT of an aborted
 * transaction is a ROLLBACK). For a transaction's last writes, e.g. its notices. Each must have been
 * started when handed over, and be one statement: a drizzle builder (started here), or the promise
 * of a call whose first and only step is its statement. A second statement of such a call would come
 * after the COMMIT: it is refused and the transaction reported failed, though what went before the
 * COMMIT is committed. In a transaction reservedTransaction did not begin they are awaited here.
 */
export async function sentWithCommit(tx: Tx, ...statements: PromiseLike<unknown>[]): Promise<void> {
  const client = (tx as unknown as { session?: { client?: object } }).session?.client;
  const pending = client && PENDING.get(client);
  if (!pending) {
    await pipelined(...statements);
    return;
  }
  for (const statement of statements) {
    // then() now, not in a later microtask: the statement starts before this returns.
    const started = new Promise((resolve, reject) => void statement.then(resolve, reject));
    started.catch(() => void (pending.failed = true));
    pending.statements.push(started);
  }
}

/**
 * Statements of one transaction sent at once (issue 14): postgres.js writes them to the transaction's
 * connection together and PostgreSQL runs them one after another, so they cost one round trip
 * instead of one each; under load every round trip waits its turn for the CPU twice. Only for
 * statements that do not need each other's results. Each is awaited before the first failure is
 * thrown, so none is still under way when the caller's transaction rolls back.
 *
 * The order: drizzle statements of one kind (builders not yet sent, as `tx.execute(sql…)` returns)
 * go out in the order given, which refreshDestination relies on (its lock, then its statement). A
 * call of an async function has sent its statement before pipelined sees it, so it goes out first:
 * mix the two only where the order does not matter.
 */
export async function pipelined<T extends readonly unknown[]>(...statements: { readonly [K in keyof T]: PromiseLike<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(statements);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** drizzle's transactions through reservedTransaction. No code here nests transactions (savepoints). */
type SessionParts = { client: postgres.Sql; dialect: ConstructorParameters<typeof PostgresJsSession>[1]; schema: ConstructorParameters<typeof PostgresJsSession>[2]; options: ConstructorParameters<typeof PostgresJsSession>[3] };
Object.assign(PostgresJsSession.prototype, {
  transaction(this: SessionParts, run: (tx: PostgresJsTransaction<Record<string, unknown>, never>) => Promise<unknown>, config?: Parameters<PostgresJsTransaction<Record<string, unknown>, never>['setTransaction']>[0]) {
    return reservedTransaction(HOLDING.get(this.client) ?? this.client, '', async (reserved) => {
      const tx = new PostgresJsTransaction(this.dialect, new PostgresJsSession(reserved, this.dialect, this.schema, this.options) as never, this.schema as never);
      if (config) await tx.setTransaction(config);
      return run(tx as never);
    });
  },
});

/**
 * The pool: up to `max` connections, each closed after `idleSeconds` unused (issue 14: a campus
 * server at rest keeps no PostgreSQL backends of ours; reopening one costs a few milliseconds).
 *
 * drizzle's short reads outside a transaction go through `lanes` connections of their own, a few,
 * one statement sent behind another while a lane is busy, in one write (issue 14; laneSet). Spread
 * over ten connections, a page's statements and its neighbours' each woke a PostgreSQL backend of
 * their own and cost a write and a read each side: on this 2-core machine the five signed-in pages
 * of goal 1 cost 25–45% less CPU on two lanes, and the mixed load's p50 at 400 req/s halved.
 * Only plain reads go on a lane (LANE_READ): a write outside a transaction may wait for a
 * transaction's lock, and what was sent behind it would wait too. Reads known to be long, reads
 * when every lane is busy, and `apart(db)` go to a pool of reads no transaction holds (at most
 * half of `max`). Transactions, writes, reservations and cursors (`db.$client`) take connections
 * of the pool of `max` and keep them as long as they need.
 * One lane per core (the database's work on a lane runs on one core), two to four: one Node process
 * keeps at most about one database core busy (a page's database work is a third of its CPU), and
 * a process per core on a large machine would otherwise open dozens of connections each.
 */
export function connect(url: string, max = 10, idleSeconds = 60, lanes = Math.min(max, Math.max(2, Math.min(4, availableParallelism())))): Db {
  const { url: address, path } = unixSocketOf(url);
  const pool = (size: number, settings: Record<string, string> = {}) => {
    const opened = guarded(postgres(address, { max: size, idle_timeout: idleSeconds, onnotice: () => {}, connection: { application_name: 'wangqian', ...settings }, ...(path ? { path } : {}) }));
    // drizzle sets a client's date parsers as it wraps it; every pool needs them, those that run
    // drizzle's statements unwrapped too (the transactions' pool, each lane behind laneSet).
    drizzle(opened);
    return opened;
  };
  const sql = pool(max);
  // Long reads, and short ones when every lane is busy: connections no transaction holds, so a
  // transaction never waits for a read that waits for its connection.
  const reads = pool(Math.max(2, Math.ceil(max / 2)));
  const apartDb = drizzle(reads, { schema }) as Db;
  const lanePools = Array.from({ length: lanes }, () => pool(1));
  const lane = laneSet(lanePools, reads, idleSeconds);
  HOLDING.set(lane, sql);
  HOLDING.set(reads, sql);
  const db = drizzle(lane, { schema }) as Db;
  // A few connections more for the statements that must keep one plan (genericPlans); they close with the pool.
  const generic = pool(Math.max(1, Math.ceil(max / 3)), { plan_cache_mode: 'force_generic_plan' });
  HOLDING.set(generic, sql);
  // What other processes change, heard on a connection of its own (db/changes.ts). Every write of
  // this process is told to it: a transaction that wrote when it commits, a statement on the pool
  // (drizzle's writes outside a transaction) when it answers; a plain read (LANE_READ) is not a write.
  // Not the $client's tagged statements, nor what runs on a connection taken with reserve() outside
  // reservedTransaction: the app writes through drizzle and reservedTransaction (such a write would be
  // heard a moment later, as another process's is). The feed's own notices carry nothing to keep:
  // committed without waiting for the disk.
  const changes = new ChangeFeed(
    (onnotify, onclose) =>
      // onnotify is postgres.js's own (its listen() uses it), not in its types.
      postgres(address, {
        max: 1,
        idle_timeout: 0,
        max_lifetime: null,
        fetch_types: false,
        onnotice: () => {},
        onnotify: (_channel: string, payload: string) => onnotify(payload),
        onclose,
        connection: { application_name: 'wangqian-changes', synchronous_commit: 'off' },
        ...(path ? { path } : {}),
      } as postgres.Options<{}>),
    idleSeconds * 1000,
  );
  const wrote = () => changes.wrote();
  WROTE.set(sql, wrote);
  const unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((text: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    const query = unsafe(text, params as never, options);
    // Promise's own then: postgres.js's would send the statement now, before the caller has set what
    // it will (drizzle's .values(), a cursor).
    if (mayTell(text)) Promise.prototype.then.call(query, wrote, wrote);
    return query;
  }) as typeof sql.unsafe;
  const end = sql.end.bind(sql);
  sql.end = ((options?: { timeout?: number }) => Promise.all([changes.close(), generic.end(options), reads.end(options), ...lanePools.map((one) => one.end(options)), end(options)]).then(() => undefined)) as typeof sql.end;
  return Object.assign(db, { $client: sql, [GENERIC]: drizzle(generic, { schema }) as Db, [APART]: apartDb, [CHANGES]: changes });
}

/** The pool's hook for a committed write (connect), which reservedTransaction calls after COMMIT. */
const WROTE = new WeakMap<postgres.Sql, () => void>();
const CHANGES = Symbol('changes');

/** The change feed of a database handle made by connect; none for a transaction or a handle made elsewhere. */
export function changeFeedOf(db: DbOrTx): ChangeFeed | undefined {
  return (db as unknown as Record<symbol, ChangeFeed | undefined>)[CHANGES];
}

/**
 * Lanes are for short statements: one that has taken longer than this (its average over its recent
 * runs, per statement text) goes to the pool, where it holds up nothing sent behind it. A page's reads
 * take 0.05–0.5 ms; a deep page or a search at a million rows 20–60 ms. A scratch test beside 60 ms
 * reads on the lanes measured short statements' p99 at 52–60 ms, against 9–10 ms on ten connections.
 */
const LANE_SHORT_MS = 5;
/** A busy lane's current statement younger than this may be followed; an older one may be long. */
const LANE_YOUNG_MS = 2;
const COSTS_KEPT = 2000;

/**
 * The lanes as one client for drizzle (it calls `unsafe`): each a connection of its own. A statement
 * known to be long goes to the pool; any other to an idle lane, else behind the least loaded lane
 * whose current statement is young, else to the pool. Each lane answers in order, so its statements
 * in flight are a count, the one now running began when the one before it answered, and its time
 * is from then to its answer.
 */
function laneSet(pools: postgres.Sql[], overflow: postgres.Sql, idleSeconds: number): postgres.Sql {
  const lanes = pools.map((sql) => ({ sql, inFlight: 0, headSince: 0, answeredAt: -Infinity }));
  // A lane unused for most of the idle time may have closed: its next statement also opens a
  // connection (several milliseconds), which says nothing of the statement.
  const mayReopen = idleSeconds * 900;
  const costs = new Map<string, number>();
  const learn = (text: string, ms: number) => {
    const before = costs.get(text);
    if (before === undefined && costs.size >= COSTS_KEPT) costs.clear();
    costs.set(text, before === undefined ? ms : before * 0.7 + ms * 0.3);
  };
  const toPool = (text: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    const sent = performance.now();
    const query = overflow.unsafe(text, params as never, options);
    query.then(
      () => learn(text, performance.now() - sent),
      () => undefined,
    );
    return query;
  };
  const unsafe = (text: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    if ((costs.get(text) ?? 0) > LANE_SHORT_MS) return toPool(text, params, options);
    const now = performance.now();
    let chosen: (typeof lanes)[number] | undefined;
    for (const lane of lanes) {
      if (lane.inFlight === 0) {
        chosen = lane;
        break;
      }
      if (now - lane.headSince < LANE_YOUNG_MS && (chosen === undefined || lane.inFlight < chosen.inFlight)) chosen = lane;
    }
    if (chosen === undefined) return toPool(text, params, options);
    const lane = chosen;
    if (lane.inFlight++ === 0) lane.headSince = now;
    const query = lane.sql.unsafe(text, params as never, options);
    // postgres.js sends a statement a microtask after it is first awaited, so what the caller sets on
    // it now (drizzle's .values()) still applies.
    const fresh = now - lane.answeredAt > mayReopen;
    // A failed statement teaches nothing: it may have failed before it was sent, out of turn.
    const answered = (ok: boolean) => {
      const at = performance.now();
      if (ok && !fresh) learn(text, at - lane.headSince);
      lane.inFlight--;
      lane.headSince = lane.answeredAt = at;
    };
    query.then(
      () => answered(true),
      () => answered(false),
    );
    return query;
  };
  return { unsafe, options: pools[0]!.options } as unknown as postgres.Sql;
}

/**
 * A statement postgres.js cannot encode (a parameter left undefined; 65,534 parameters or more) is
 * refused here, before postgres.js sees it. postgres.js 3.4.9 queues a statement on its connection
 * before encoding it, and when encoding throws, it fails the statement then running instead and
 * leaves the unsent one queued: every later answer on that connection then goes to the statement
 * before it (found in review and reproduced). Where statements are sent behind others (the lanes,
 * `pipelined`), that would hand one request another's rows. Also for the connections a pool reserves.
 */
function guarded<S extends postgres.Sql | postgres.ReservedSql>(sql: S): S {
  const unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((text: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    if (params !== undefined && (params.length >= 65534 || params.includes(undefined))) {
      throw new Error(`refused before sending: ${params.length >= 65534 ? `${params.length} parameters` : `parameter $${params.indexOf(undefined) + 1} is undefined`} in: ${text.slice(0, 120)}`);
    }
    return unsafe(text, params as never, options);
  }) as S['unsafe'];
  if ('reserve' in sql) {
    const reserve = (sql as postgres.Sql).reserve.bind(sql);
    (sql as postgres.Sql).reserve = (async () => guarded(await reserve())) as postgres.Sql['reserve'];
  }
  return sql;
}

/** A lane's pool, where the transactions begun on its drizzle handle reserve their connection. */
const HOLDING = new WeakMap<postgres.Sql, postgres.Sql>();
const APART = Symbol('apart from the lanes');

/**
 * The handle for a read that may take long (a school's live 数据统计, the reviewer flags over a
 * year of decisions): on the pool of reads from its first run, not a lane, where the statements of
 * other pages would wait behind it. A transaction, or a handle made elsewhere, is its own.
 */
export function apart<D extends DbOrTx>(db: D): D {
  return sibling(db, APART);
}

/** The handle connect made beside `db` under `key`; `db` itself when it has none (a transaction). */
function sibling<D extends DbOrTx>(db: D, key: symbol): D {
  return ((db as unknown as Record<symbol, D | undefined>)[key] ?? db) as D;
}

const GENERIC = Symbol('generic plans');

/**
 * The handle for the few statements whose plan does not depend on their parameters' values, run on
 * connections where PostgreSQL keeps one generic plan per statement (issue 14): the reviewers' kept
 * list statements and the roster's cohort pages. Left to choose, PostgreSQL kept planning those
 * afresh on every view at a busy school (custom plans looked cheaper than the generic one it would
 * run just as fast), 0.2–0.4 ms of its CPU a page. The plan tests (test/domain/list-plans.test.ts)
 * hold their generic plans to their indexes. A transaction, or a handle made elsewhere, is its own.
 */
export function genericPlans<D extends DbOrTx>(db: D): D {
  return sibling(db, GENERIC);
}

/**
 * libpq's way of naming a Unix socket in a URL, `?host=/directory` (the embedded database's appUrl, or
 * a DATABASE_URL written so), which postgres.js does not read from the URL: it takes the socket's path.
 */
export function unixSocketOf(url: string): { url: string; path?: string } {
  // Only a URL naming a socket is rewritten; others (postgres.js also takes h1:5432,h2:5433) go as given.
  if (!/[?&]host=/.test(url)) return { url };
  const u = new URL(url);
  const host = u.searchParams.get('host');
  if (!host?.startsWith('/')) return { url };
  u.searchParams.delete('host');
  return { url: u.toString(), path: `${host.replace(/\/+$/, '')}/.s.PGSQL.${u.port || 5432}` };
}

/** `url` naming the Unix socket in `dir` as libpq does (what unixSocketOf reads back). */
export const withUnixSocket = (url: string, dir: string) => `${url}?host=${encodeURIComponent(dir)}`;

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/** The advisory lock that makes the processes starting on one database migrate it one after another. */
const MIGRATION_LOCK = 727_001;

/**
 * The schema migrations, then the data step of 0018 (ID numbers sealed); the installed ID number keys
 * must read the stored ones. Two processes starting at once on one database (two app processes behind
 * a proxy) take turns under an advisory lock: the second finds everything done.
 */
export async function migrateDatabase(db: Db): Promise<void> {
  const holder = await db.$client.reserve();
  try {
    await holder`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    await sealIdNumbersAtRest(db);
    await checkIdNumberKeys(db);
  } finally {
    await holder`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => undefined);
    holder.release();
  }
}

/** PostgreSQL's major version, e.g. 18; DATABASE_URL servers must be 14 or newer. */
export async function serverMajorVersion(db: Db): Promise<number> {
  const rows = await db.$client`show server_version_num`;
  return Math.floor(Number(rows[0]?.server_version_num) / 10000);
}

/** True when a query failed on a unique constraint (drizzle wraps the driver's error as `cause`). */
export function isUniqueViolation(e: unknown): boolean {
  for (let err = e; typeof err === 'object' && err !== null; err = (err as { cause?: unknown }).cause) {
    if ((err as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/**
 * A raw statement built once per shape (builtOnce), with `sql.placeholder` for what varies,
 * and run as drizzle's prepared queries are: rows as objects, as `db.execute` gives them (issue 14:
 * the review page's flag statements were rebuilt from their templates on every view, most of its
 * node time). `shape` names one of a few fixed forms of the statement.
 */
export function statementOnce<R, K extends string = ''>(build: (shape: K) => SQL): (db: DbOrTx, values: Record<string, unknown>, shape?: K) => Promise<R[]> {
  const prepared = builtOnce((db, shape: K) => {
    const { session, dialect } = db as unknown as {
      session: { prepareQuery(query: { sql: string; params: unknown[] }, fields: undefined, name: string | undefined, arrayMode: boolean): { execute(values: Record<string, unknown>): Promise<unknown> } };
      dialect: { sqlToQuery(statement: SQL): { sql: string; params: unknown[] } };
    };
    return session.prepareQuery(dialect.sqlToQuery(build(shape)), undefined, undefined, false);
  });
  return (db, values, shape) => prepared(db, shape).execute(values) as Promise<R[]>;
}

/**
 * A drizzle query built once and run with placeholders (`sql.placeholder`): building a query's text
 * is most of what a page spends in node (issue 14), and a hot query whose shape never changes need
 * not be built on every request. `shape` names one of a few fixed shapes (a tab, a flag).
 *
 * A prepared query (`.prepare(name)`, statementOnce's) is built once for every handle, a
 * transaction's too: each handle runs it on its own connection, as drizzle would have sent it there
 * (a read on a lane, anything else on the pool; a transaction's on its reserved connection). Before,
 * each transaction built its own, so a review decision rebuilt every statement it sends. Anything
 * else is built once per handle.
 */
export function builtOnce<Q, K extends string = ''>(build: (db: DbOrTx, shape: K) => Q): (db: DbOrTx, shape?: K) => Q {
  const prepared = new Map<K, Q>();
  const perHandle = new WeakMap<DbOrTx, Map<K, Q>>();
  return (db, shape = '' as K) => {
    const kept = prepared.get(shape);
    if (kept !== undefined) return onHandle(kept, db);
    let shapes = perHandle.get(db);
    if (shapes === undefined) perHandle.set(db, (shapes = new Map()));
    let query = shapes.get(shape);
    if (query === undefined) {
      query = build(db, shape);
      if (clientOfQuery(query) !== undefined) prepared.set(shape, query);
      else shapes.set(shape, query);
    }
    return query;
  };
}

type PreparedParts = { client: postgres.Sql; queryString: string };

/** A prepared query's connection, when it is one of drizzle's postgres.js prepared queries. */
function clientOfQuery(query: unknown): postgres.Sql | undefined {
  const q = query as Partial<PreparedParts> | null;
  return q && typeof q === 'object' && typeof q.queryString === 'string' && q.client && typeof q.client.unsafe === 'function' ? q.client : undefined;
}

/** `query` run on `db`'s connection, routed as prepareQuery routes it (a write or a locking read of a lane's handle goes to its pool). */
function onHandle<Q>(query: Q, db: DbOrTx): Q {
  const own = (db as unknown as { session?: { client?: postgres.Sql } }).session?.client;
  if (own === undefined) return query;
  const q = query as unknown as PreparedParts;
  const pool = HOLDING.get(own);
  const client = pool !== undefined && !isLaneRead(q.queryString) ? pool : own;
  return client === q.client ? query : (Object.create(query as object, { client: { value: client } }) as Q);
}
