import type { Server } from 'node:http';
import type { Logger } from './log.ts';

// Issue 14, goal 5: memory at rest. V8 gives the pages of a heap that has shrunk back to the system
// only in a memory-reducing collection, and starts one by itself only after a full collection that
// finds the heap grown. A quiet platform may never have that collection: measured at rest, 75 s
// after one PDF, node held 193 MB PSS, 250 pages of 256 KB more than the same build while hono's
// compress middleware ran (its zlib streams' external memory forced full collections, 148 MB).
// So once the platform has been quiet for a while after serving, it asks V8 for that collection:
// node at rest measured 123–142 MB PSS, for one pause of tens of milliseconds when nobody is waiting.

/** V8's gc() as `node --expose-gc` installs it. */
type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

export type AtRest = {
  /** A request began. */
  begin(): void;
  /** A request's response ended (or its connection closed). */
  end(): void;
  /** Collects when the platform has served since the last collection, serves nothing now, and has been quiet for `quietMs` (the timer calls it). */
  check(): boolean;
  stop(): void;
};

/**
 * Releases the heap's unused memory once the platform is at rest: nothing in flight and `quietMs`
 * since the last request ended, once per spell of work. Without `collect` (node started without
 * --expose-gc), nothing.
 */
export function releaseMemoryAtRest(options: { collect?: Collect | undefined; quietMs?: number; everyMs?: number; now?: () => number; log?: Logger }): AtRest {
  const { collect, quietMs = 30_000, everyMs = 10_000, now = Date.now, log } = options;
  let lastBusy = now();
  let inFlight = 0;
  // At start-up the migrations and the demo data have just run: the first rest collects them too.
  let served = true;
  const atRest: AtRest = {
    begin() {
      inFlight++;
      lastBusy = now();
      served = true;
    },
    end() {
      inFlight = Math.max(0, inFlight - 1);
      lastBusy = now();
    },
    check() {
      if (!collect || !served || inFlight > 0 || now() - lastBusy < quietMs) return false;
      served = false;
      const started = performance.now();
      collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      log?.debug('memory released at rest', { ms: Math.round(performance.now() - started), rssMb: Math.round(process.memoryUsage.rss() / 1048576) });
      return true;
    },
    stop() {
      clearInterval(timer);
    },
  };
  const timer = setInterval(() => atRest.check(), everyMs).unref();
  return atRest;
}

/** Marks `server`'s requests, each as it begins and as its response ends. */
export function watchRequests(server: Server, atRest: AtRest): void {
  server.on('request', (_req, res) => {
    atRest.begin();
    res.once('close', () => atRest.end());
  });
}

/** node's gc() when started with --expose-gc (npm start is), else undefined. */
export const exposedGc = (): Collect | undefined => {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as Collect) : undefined;
};
