import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** The channel migration 0030's triggers notify on. */
export const CHANGES_CHANNEL = 'wangqian_changes';

/** What a kept value was read from, as the triggers name it: `u12` (a user), `e3`, `g7`, `s1`. */
export type ChangeKey = string;

/** A feed's own notice answered later than this: its connection is taken for lost. */
const PROBE_MS = 2000;
/** After a failure, the connection is opened again no sooner than this. */
const RETRY_MS = 5000;
/** Changes remembered one by one for the reads under way; past this many, a read begun before is not kept. */
const REMEMBERED = 10_000;

/**
 * What was committed to the rows a process keeps copies of (issue 14: the session look-up of every
 * signed-in request), heard on one LISTEN connection from PostgreSQL's triggers (migration 0030), so
 * a change made anywhere (this process, another one behind the same proxy, a job, psql) reaches every
 * process. A kept value may be served only once the feed is `settled`:
 *
 * - the connection is listening (until it is, and after it is lost, nothing kept is served; everything
 *   kept is dropped, since what was said meanwhile is lost);
 * - every write this process had committed when the request began has been heard. A write's notices
 *   arrive a moment after its commit, but this process's next request may come sooner (a form's
 *   redirect, a test's next line). After a write the feed sends a notice of its own on the listening
 *   connection and awaits it: PostgreSQL delivers a listener's notices in commit order, each before
 *   the answer to the statement it follows, so once that returns, every earlier commit's notices have
 *   been heard. A request that comes meanwhile waits for that answer, which costs it no statement.
 *
 * Another process's change reaches this one a moment after its commit (a request already under way
 * there may still be answered as before it, as it would have been a moment earlier). A read whose
 * result is to be kept takes a `mark` first and keeps the result only if nothing it was read from
 * changed since (`unchangedSince`). The connection closes after `idleMs` without use and opens on
 * the next; at rest a process keeps no connection open for it.
 */
export class ChangeFeed {
  private listener: postgres.Sql | null = null;
  /** Settles when the connection opened last listens, or has failed to. */
  private listening: Promise<void> = Promise.resolve();
  private live = false;
  private closed = false;
  private retryAfter = 0;
  /** Raised by every change heard; a read's mark is the generation it began at. */
  private generation = 0;
  /** The generation of the last time everything changed (a '*', the connection opened or lost). */
  private everythingAt = 0;
  private readonly changedAt = new Map<ChangeKey, number>();
  /** Writes committed by this process, and how many of them are known heard. */
  private writes = 0;
  private heard = 0;
  private barrier = false;
  /** This feed's notices: its name among the processes', how many it sent, the latest of them heard. */
  private readonly id = randomBytes(6).toString('hex');
  private probes = 0;
  private probesHeard = 0;
  /** Reads waiting for the writes committed before them to be heard. */
  private waiting: Array<{ upTo: number; resolve: (current: boolean) => void }> = [];
  private lastUsed = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly subscribers: Array<(keys: ChangeKey[] | null) => void> = [];

  private readonly open: (onnotify: (payload: string) => void, onclose: () => void) => postgres.Sql;
  private readonly idleMs: number;

  /** `open` makes the listening connection (one, never closed for idleness by postgres.js); `idleMs`: closed by the feed after so long unused. */
  constructor(open: (onnotify: (payload: string) => void, onclose: () => void) => postgres.Sql, idleMs: number) {
    this.open = open;
    this.idleMs = idleMs;
  }

  /** `changed` is called with the keys of each change heard, or null when anything may have changed. */
  subscribe(changed: (keys: ChangeKey[] | null) => void): void {
    this.subscribers.push(changed);
  }

  /** Whether the connection listens now (a test's look; `settled` is what decides). */
  get listens(): boolean {
    return this.live;
  }

  /**
   * Whether kept values may be served once the writes this process has committed so far are heard:
   * at once when they are, after the notice under way when not (no statement of its own: the notice
   * answers every read waiting for it), false when the feed does not listen.
   */
  settled(): boolean | Promise<boolean> {
    this.use();
    if (!this.live) return false;
    if (this.heard === this.writes) return true;
    const upTo = this.writes;
    return new Promise((resolve) => this.waiting.push({ upTo, resolve }));
  }

  /** Taken before a read whose result may be kept. */
  mark(): number {
    this.use();
    return this.live ? this.generation : -1;
  }

  /** Whether a result read after `mark` may be kept: the feed listened throughout and nothing under `keys` changed. */
  unchangedSince(mark: number, keys: readonly ChangeKey[]): boolean {
    if (mark < 0 || !this.live || this.everythingAt > mark) return false;
    for (const key of keys) if ((this.changedAt.get(key) ?? -1) > mark) return false;
    return true;
  }

  /** This process committed a write: kept values wait until its notices are heard. */
  wrote(): void {
    this.writes++;
    if (this.live && !this.barrier) void this.catchUp();
  }

  /**
   * Resolves once every change committed before the call, by any process, has been heard (a test's
   * wait for another process's change, or a kept value refreshed at once). Opens the connection if need be.
   */
  async caughtUp(): Promise<void> {
    this.use();
    await this.listening;
    // Not listening (the connection failed): nothing kept is served until it is, which is as current.
    await this.probe();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.shut();
  }

  private use(): void {
    this.lastUsed = performance.now();
    if (this.listener === null && !this.closed && this.lastUsed >= this.retryAfter) this.start();
  }

  private start(): void {
    const sql = this.open(
      (payload) => this.heardPayload(payload),
      () => this.lost(sql),
    );
    this.listener = sql;
    this.listening = sql.unsafe(`listen ${CHANGES_CHANNEL}`).then(
      () => {
        if (this.listener !== sql) return;
        // What was said before the LISTEN took effect is not known: everything kept goes.
        this.everything();
        this.live = true;
        this.hearUpTo(this.writes);
        this.armIdle();
      },
      () => {
        this.retryAfter = performance.now() + RETRY_MS;
        this.lost(sql);
      },
    );
  }

  private lost(sql: postgres.Sql): void {
    if (this.listener !== sql) return;
    this.listener = null;
    this.live = false;
    this.everything();
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.resolve(false);
    void sql.end({ timeout: 0 }).catch(() => undefined);
  }

  private async shut(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const sql = this.listener;
    if (sql === null) return;
    this.lost(sql);
    await sql.end({ timeout: 0 }).catch(() => undefined);
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const left = this.idleMs - (performance.now() - this.lastUsed);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (performance.now() - this.lastUsed >= this.idleMs) void this.shut();
      else if (this.listener !== null) this.armIdle();
    }, Math.max(0, left) + 10);
    this.idleTimer.unref();
  }

  /** Sends notices of its own on the listening connection, until every write committed so far is heard. */
  private async catchUp(): Promise<void> {
    this.barrier = true;
    try {
      while (this.live && this.heard < this.writes) await this.probe();
    } finally {
      this.barrier = false;
    }
  }

  /**
   * One notice of the feed's own, sent and awaited on the listening connection; once it is back,
   * every change committed before it was sent has been heard, and the writes counted then are.
   * Its payload must have been heard by the time the statement answers (PostgreSQL sends a session's
   * notices before it says it is ready): if not, or if the statement fails or takes longer than
   * PROBE_MS, the connection is taken for lost (nothing kept is served; a new one opens later),
   * rather than serving what may have changed unheard, or keeping requests waiting on it.
   */
  private async probe(): Promise<void> {
    const sql = this.listener;
    if (sql === null || !this.live) return;
    const upTo = this.writes;
    const n = ++this.probes;
    const payload = `b:${this.id}:${n}`;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        // Its payload written in: a statement without parameters is one round trip (with them,
        // postgres.js asks their types first), and it is made of the feed's hex name and a number.
        sql.unsafe(`select pg_notify('${CHANGES_CHANNEL}', '${payload}')`),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), PROBE_MS).unref())),
      ]);
      if (this.probesHeard < n) throw new Error('its own notice was not heard');
      if (this.listener === sql && this.live) this.hearUpTo(upTo);
    } catch {
      this.retryAfter = performance.now() + RETRY_MS;
      this.lost(sql);
    } finally {
      clearTimeout(timer);
    }
  }

  private hearUpTo(upTo: number): void {
    if (upTo <= this.heard) return;
    this.heard = upTo;
    if (this.waiting.length === 0) return;
    const still: typeof this.waiting = [];
    for (const w of this.waiting) {
      if (w.upTo <= upTo) w.resolve(true);
      else still.push(w);
    }
    this.waiting = still;
  }

  private heardPayload(payload: string): void {
    if (payload.startsWith('b:')) {
      // A feed's own notice, this one's or another process's: nothing changed.
      if (payload.startsWith(`b:${this.id}:`)) this.probesHeard = Math.max(this.probesHeard, Number(payload.slice(this.id.length + 3)));
      return;
    }
    if (payload === '*') {
      this.everything();
      return;
    }
    const colon = payload.indexOf(':');
    const kind = payload.slice(0, colon);
    const keys = payload
      .slice(colon + 1)
      .split(',')
      .map((id) => kind + id);
    const at = ++this.generation;
    if (this.changedAt.size + keys.length > REMEMBERED) {
      this.changedAt.clear();
      this.everythingAt = at;
    }
    for (const key of keys) this.changedAt.set(key, at);
    for (const changed of this.subscribers) changed(keys);
  }

  private everything(): void {
    this.everythingAt = ++this.generation;
    this.changedAt.clear();
    for (const changed of this.subscribers) changed(null);
  }
}
