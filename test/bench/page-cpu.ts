import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEMO_ACCOUNTS, type DemoAccount } from '../helpers/app.ts';

// Issue 14, goal 1: CPU milliseconds per signed-in page, node and PostgreSQL together, read from
// /proc around a fixed number of requests. CPU time varies far less than req/s on a shared machine.
// A minimal one-query page (hono + postgres.js + eta, in server.ts) is the floor pages are held
// against; the rounds are interleaved and each figure is the median of them, with min and max.
const REQUESTS = Number(process.env.BENCH_PAGE_REQUESTS ?? 2000);
const ROUNDS = 3;
const BUDGET_CPU_MS = 1.0;
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** `database`: the server's database (a clone of the demo template), for a bench that seeds it. */
export type BenchServer = { base: string; hello: string; floor: string; pid: number; child: ChildProcess; database: string };

/** The bench's server process (server.ts) on a clone of the demo database of the cluster at `serverUrl`. */
/** `jobs`: the app's jobs run in it as under npm start (the mixed load: the outbox sends, the counters fold). */
export async function spawnBenchServer(serverUrl: string, database?: string, opts: { jobs?: boolean } = {}): Promise<BenchServer> {
  // With npm start's young generation (package.json), so the bench's GC is the platform's.
  const child = spawn(process.execPath, ['--max-semi-space-size=16', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-interval=${process.env.BENCH_CPU_PROF_INTERVAL ?? 1000}`] : []), fileURLToPath(new URL('./server.ts', import.meta.url))], {
    env: { ...process.env, TEST_PG_SERVER: serverUrl, ...(database ? { BENCH_DATABASE: database } : {}), ...(opts.jobs ? { BENCH_JOBS: 'on' } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own session, as the app runs in production apart from its clients: where Linux groups a
    // session's processes for the scheduler (autogroups), the generator does not share the app's group.
    detached: true,
  });
  // Detached, it would outlive a bench that fails: it ends with the bench process.
  process.once('exit', () => child.kill());
  const ports = await new Promise<{ hello: number; floor: number; app: number; database: string }>((resolve) => child.stdout!.once('data', (d) => resolve(JSON.parse(String(d)))));
  const at = (port: number) => `http://127.0.0.1:${port}`;
  return { base: at(ports.app), hello: `${at(ports.hello)}/`, floor: `${at(ports.floor)}/`, pid: child.pid!, child, database: ports.database };
}

/** Signs in over HTTP and returns the session cookie; a graduate confirms the roster record (G1) so the home is measured. */
export async function signIn(base: string, account: DemoAccount, graduateLogin = '13900101000'): Promise<string> {
  const { portal, password } = DEMO_ACCOUNTS[account];
  const login = DEMO_ACCOUNTS[account].login || graduateLogin;
  const res = await fetch(`${base}/${portal}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login, password }),
  });
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (res.status !== 303 || !cookie) throw new Error(`bench sign-in as ${account} failed: ${res.status}`);
  if (portal === 'student') await fetch(`${base}/student/check`, { method: 'POST', redirect: 'manual', headers: { origin: base, cookie } });
  return cookie;
}

/** User plus system time of a process, in ms; with `children`, also that of its children it has waited for. */
export function processCpuMs(pid: number, children = false): { ms: number; ppid: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null; // ended meanwhile
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return { ms: ticks * TICK_MS, ppid: Number(f[1]) };
}

/**
 * The CPU time of a PostgreSQL server so far: the postmaster, the backends and workers alive now, and
 * (through the postmaster's children times) those that have ended, so a closed connection loses nothing.
 */
export function postgresCpuMs(postmaster: number): number {
  let total = processCpuMs(postmaster, true)?.ms ?? 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = processCpuMs(Number(name));
    if (p && p.ppid === postmaster) total += p.ms;
  }
  return total;
}

export type PageUnderLoad = { label: string; url: string; cookie?: string; budget?: number };

/** As a browser asks: it takes gzip, so the CPU of compressing the page is counted. */
const headersOf = (page: PageUnderLoad) => ({ 'accept-encoding': 'gzip, deflate, br', ...(page.cookie ? { cookie: page.cookie } : {}) });

/** CPU ms per request of each page (node, PostgreSQL, sum), interleaved rounds, and the bench's rows. */
export async function measurePageCpu(server: BenchServer, postmaster: number, pages: PageUnderLoad[]): Promise<{ rows: string[][]; over: number }> {
  const runs = new Map<string, Array<{ node: number; pg: number; non2xx: number }>>();
  for (const page of pages) {
    // Warm: templates compiled, statements prepared on every pooled connection, JIT settled.
    await autocannon({ url: page.url, connections: 10, amount: 300, headers: headersOf(page) });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const page of pages) {
      const node0 = processCpuMs(server.pid)!.ms;
      const pg0 = postgresCpuMs(postmaster);
      const result = await autocannon({ url: page.url, connections: 10, amount: REQUESTS, headers: headersOf(page) });
      const node = (processCpuMs(server.pid)!.ms - node0) / REQUESTS;
      const pg = (postgresCpuMs(postmaster) - pg0) / REQUESTS;
      const list = runs.get(page.label) ?? [];
      list.push({ node, pg, non2xx: result.non2xx + result.errors });
      runs.set(page.label, list);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fmt = (x: number) => x.toFixed(2);
  const rows: string[][] = [];
  let over = 0;
  const floor = median(runs.get(pages.find((p) => p.url === server.floor)?.label ?? '')?.map((r) => r.node + r.pg) ?? [NaN]);
  for (const page of pages) {
    const list = runs.get(page.label)!;
    const sums = list.map((r) => r.node + r.pg);
    const total = median(sums);
    const non2xx = list.reduce((n, r) => n + r.non2xx, 0);
    const within = page.budget === undefined || total <= page.budget;
    over += Number(!within) + Number(non2xx > 0);
    rows.push([
      `CPU per request ${page.label}`,
      `${fmt(total)} ms (node ${fmt(median(list.map((r) => r.node)))} + pg ${fmt(median(list.map((r) => r.pg)))}; min ${fmt(Math.min(...sums))} max ${fmt(Math.max(...sums))}; ${(total / floor).toFixed(1)}× floor${non2xx ? `; ${non2xx} non-2xx` : ''})`,
      page.budget === undefined ? '' : `≤ ${page.budget} ms${within ? '' : ' OVER'}`,
    ]);
  }
  return { rows, over };
}

/** The pages of goal 1, signed in as their users, with the floor and hello-world for reference. */
export async function goalOnePages(server: BenchServer): Promise<PageUnderLoad[]> {
  const [student, employer, school] = [await signIn(server.base, 'student'), await signIn(server.base, 'employer'), await signIn(server.base, 'school')];
  const b = BUDGET_CPU_MS;
  return [
    { label: 'hello-world (no database)', url: server.hello },
    { label: 'one-query page (hono + postgres.js + eta)', url: server.floor },
    { label: '/student (graduate home)', url: `${server.base}/student`, cookie: student, budget: b },
    { label: '/employer/favourites (学生收藏夹)', url: `${server.base}/employer/favourites`, cookie: employer, budget: b },
    { label: '/employer/agreements (签约/解约)', url: `${server.base}/employer/agreements`, cookie: employer, budget: b },
    { label: '/school/graduates (学生名单管理)', url: `${server.base}/school/graduates`, cookie: school, budget: b },
    { label: '/school/agreements (在线签约管理)', url: `${server.base}/school/agreements`, cookie: school, budget: b },
  ];
}

if (import.meta.main) {
  const { startTestCluster } = await import('../helpers/cluster.ts');
  const cluster = await startTestCluster();
  const server = await spawnBenchServer(cluster.serverUrl);
  let over = 0;
  try {
    const measured = await measurePageCpu(server, cluster.postmaster!, await goalOnePages(server));
    for (const r of measured.rows) process.stdout.write(r.join('  ') + '\n');
    over = measured.over;
  } finally {
    server.child.kill();
    await cluster.stop();
  }
  process.exit(over ? 1 : 0);
}
