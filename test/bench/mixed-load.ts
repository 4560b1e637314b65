import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import postgres from 'postgres';
import { connect } from '../../db/client.ts';
import { makeUscc } from '../../domain/codes/uscc.ts';
import { BENCH_SEALED_ID_NUMBER } from '../helpers/keys.ts';
import { startProxy } from '../helpers/proxy.ts';
import { insertAgreement } from '../helpers/signed-agreement.ts';
import { postgresCpuMs, processCpuMs, signIn, spawnBenchServer, type BenchServer } from './page-cpu.ts';

// Issue 14, goal 3: the real mix at fixed rates. An open-loop generator sends each request at its
// appointed time whatever the earlier ones are doing (a slow server does not slow the load down,
// so no queueing is hidden), and a request's latency counts from that time. The mix, per 200
// requests: graduates' homes and invitations, employers' lists, schools' lists and review pages,
// htmx review decisions (real state changes: events, notifications, numbering) and one agreement
// PDF. Each rate reports p50/p99/max latency, errors, the rate reached and the CPU per request.
const RATES = (process.env.BENCH_RATES ?? '100,200,300,400').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_MIX_SECONDS ?? 15);
// Goal 7: BENCH_PROCESSES=2 spreads the mix over two app processes on the one database, behind a
// round-robin proxy (test/helpers/proxy.ts, in the generator's process: nginx would take less CPU).
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 1);
const BUDGET = { rate: 400, p99: 100 };
const SUPPLY = 6000; // agreements waiting for the school's review: more than the decisions sent
const UNITS = 300;

/** A request of the mix; resolves with the status once the whole body has arrived. */
type Step = { label: string; send: () => Promise<number> };

// The generator sends through node:http with kept-alive sockets: it shares the machine with the app,
// and fetch's own CPU (0.7 ms a request, a third of a core at 400 req/s) came out of the app's share.
// A socket left idle is closed after 3 s, before the server's keep-alive timeout (5 s) would close it
// under a request sent meanwhile (ECONNRESET).
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024, timeout: 3000 });
function send(url: string, init: { method?: string; headers: Record<string, string>; body?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) }, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** The bench database's extra rows: graduates with one agreement each at 等待学校审核, and a signed agreement of the demo graduate to print. */
async function seed(serverUrl: string, server: BenchServer): Promise<{ reviewIds: number[]; printId: number; printer: string }> {
  const sql = postgres(`${serverUrl}/${server.database}`, { max: 1, onnotice: () => {} });
  await sql`insert into graduates (school_id, department_id, cohort, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
    select d.school_id, d.id, 2026, '混合' || g, '1', ${BENCH_SEALED_ID_NUMBER}, 'M' || lpad(g::text, 17, '0'), '110105********0011', '01', '03', '2004-01-01', '31', '软件工程', '1', '110105', 'M' || g, '4', '2022-09', '2026-06', '13900000000'
      from generate_series(1, ${SUPPLY}) g
      join (select id, school_id, row_number() over (order by id) - 1 as n from departments where school_id = (select id from schools where code = '10001')) d on d.n = g % 2`;
  // 300 units share the agreements, as a school's hiring is spread (one unit with thousands in review
  // would make its review flags the measure).
  const units = Array.from({ length: UNITS }, (_, i) => ({ uscc: makeUscc(`91110108MB${String(i).padStart(7, '0')}`), name: `混合压测单位${i}` }));
  await sql`insert into employers ${sql(units.map((u) => ({ ...u, employer_type: '39', industry: '34', region: '110108', address: '北京市海淀区中关村大街 1 号', verification: 'verified' })))}`;
  const reviewIds = (
    await sql`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, position_category, position_name, archive_mode, unit_snapshot, invited_at, validity_days, deadline, contact_name, contact_phone, work_place)
      select 'online', 'school_review', e.id, g.id, g.school_id, g.department_id, 2026, '13', '工程师', 'none',
             jsonb_build_object('name', e.name, 'uscc', e.uscc, 'employerType', e.employer_type, 'industry', e.industry, 'region', e.region, 'address', e.address,
                                'contactName', '王经理', 'contactPhone', '010-88886666', 'contactMobile', '13911112222', 'contactEmail', 'hr@yue.example.com'),
             now(), 3, now() + interval '3 days', '王经理', '010-88886666', '北京'
        from graduates g join (select *, row_number() over (order by id) - 1 as n from employers where name like '混合压测单位%') e on e.n = g.id % ${UNITS}
       where g.id_number_index like 'M%' order by g.id returning id`
  ).map((r) => Number(r.id));
  await sql`analyze`;
  // The graduate who prints: the first with an account and no active agreement gets a signed one.
  const [student] = await sql`select u.graduate_id, u.phone from users u where u.role = 'student' and not exists (select 1 from agreements a where a.graduate_id = u.graduate_id) order by u.id limit 1`;
  await sql.end();
  const db = connect(`${serverUrl}/${server.database}`, 1);
  try {
    const printed = await insertAgreement(db, { graduateId: Number(student!.graduate_id), number: '2026-10001-900001', code: 'MIXLOAD1' });
    return { reviewIds, printId: printed.id, printer: String(student!.phone) };
  } finally {
    await db.$client.end();
  }
}

/** The 200-request mix, in a fixed interleaved order. */
async function mix(server: BenchServer, reviewIds: number[], printId: number, printer: string): Promise<Step[]> {
  const { base } = server;
  const [student, employer, school, department] = [await signIn(base, 'student', printer), await signIn(base, 'employer'), await signIn(base, 'school'), await signIn(base, 'department')];
  const browser = { 'accept-encoding': 'gzip, deflate, br' };
  const get = (path: string, cookie: string) => () => send(`${base}${path}`, { headers: { ...browser, cookie } });
  let next = 0;
  const decide = () => {
    const id = reviewIds[next++];
    if (id === undefined) throw new Error('the bench ran out of agreements to review');
    return send(`${base}/school/agreements/${id}/review`, {
      method: 'POST',
      headers: { ...browser, cookie: school, origin: base, 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' },
      // With its form's idempotency key, as a browser sends it (X2): the key is claimed and settled.
      body: `_idem=${randomBytes(12).toString('base64url')}&decision=approve`,
    });
  };
  const reviewPage = () => get(`/school/agreements/${reviewIds[Math.min(next, reviewIds.length - 1)]}`, school)();
  const weights: Array<[string, number, () => Promise<number>]> = [
    ['graduate home', 40, get('/student', student)],
    ['graduate agreement', 10, get(`/student/invitations/${printId}`, student)],
    ['employer home', 4, get('/employer', employer)],
    ['学生收藏夹', 20, get('/employer/favourites', employer)],
    ['签约/解约', 20, get('/employer/agreements?tab=signed', employer)],
    ['学生名单管理', 25, get('/school/graduates', school)],
    ['在线签约管理', 20, get('/school/agreements', school)],
    ['在线签约管理 (department)', 10, get('/school/agreements', department)],
    ['review page', 20, reviewPage],
    ['解约管理', 10, get('/school/terminations', school)],
    ['htmx review decision', 20, decide],
    ['agreement PDF', 1, get(`/student/agreements/${printId}/document.pdf`, student)],
  ];
  // BENCH_MIX_WITHOUT='label,…' sends graduate homes in those kinds' places: what a kind adds to the tail.
  const without = new Set((process.env.BENCH_MIX_WITHOUT ?? '').split(',').filter(Boolean));
  for (const w of weights) if (without.has(w[0])) [w[0], w[2]] = [`graduate home (for ${w[0]})`, get('/student', student)];
  // Spread each kind evenly over the 200 (largest-remainder interleaving), so every second sees the mix.
  const steps: Array<{ at: number; step: Step }> = [];
  for (const [label, n, send] of weights) for (let i = 0; i < n; i++) steps.push({ at: (i + 0.5) / n, step: { label, send } });
  const total = steps.length;
  if (total !== 200) throw new Error(`the mix has ${total} requests, not 200`);
  return steps.sort((a, b) => a.at - b.at).map((s) => s.step);
}

/** The CPU ms of every live descendant of `pids` (the printers' Chromium processes), not the processes themselves. */
function descendantsCpuMs(pids: number[]): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = processCpuMs(Number(name));
    if (p) parent.set(Number(name), p.ppid), cpu.set(Number(name), p.ms);
  }
  const roots = new Set(pids);
  let total = 0;
  for (const [pid, ms] of cpu) {
    for (let up = parent.get(pid); up !== undefined && up > 1; up = parent.get(up)) {
      if (roots.has(up)) {
        total += ms;
        break;
      }
    }
  }
  return total;
}

/**
 * Runs the mix at `rate` requests a second for `seconds`; latencies from each request's appointed
 * time. The detail: p99 by kind and by second, and the CPU spent outside the app and PostgreSQL.
 */
async function atRate(cpuMs: () => number, steps: Step[], rate: number, appPids: number[] = [], seconds = SECONDS) {
  const count = Math.round(rate * seconds);
  const latencies: number[] = [];
  const byLabel = new Map<string, number[]>();
  const bySecond: number[][] = [];
  const errors = new Map<string, number>();
  const inFlight: Array<Promise<void>> = [];
  const cpu0 = cpuMs();
  const [generator0, chromium0] = [process.cpuUsage(), descendantsCpuMs(appPids)];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const step = steps[i % steps.length]!;
    inFlight.push(
      step
        .send()
        .then((status) => {
          if (status >= 400) errors.set(`${step.label} ${status}`, (errors.get(`${step.label} ${status}`) ?? 0) + 1);
        })
        .catch((e: unknown) => {
          const why = `${step.label} ${String(e)}${(e as { code?: string }).code ? ` (${(e as { code: string }).code})` : ''}`;
          errors.set(why, (errors.get(why) ?? 0) + 1);
        })
        .finally(() => {
          const ms = performance.now() - due;
          latencies.push(ms);
          (byLabel.get(step.label) ?? byLabel.set(step.label, []).get(step.label)!).push(ms);
          (bySecond[Math.floor((due - start) / 1000)] ??= []).push(ms);
        }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = (cpuMs() - cpu0) / count;
  const generatorCpu = process.cpuUsage(generator0);
  const outside = { generator: (generatorCpu.user + generatorCpu.system) / 1000 / count, chromium: (descendantsCpuMs(appPids) - chromium0) / count };
  const sorted = latencies.sort((a, b) => a - b);
  const p99Of = (xs: number[]) => percentile(xs.sort((a, b) => a - b), 99);
  const detail = {
    labels: [...byLabel].map(([label, xs]) => `${label} ${p99Of(xs).toFixed(0)}`).join(', '),
    seconds: bySecond.map((xs) => p99Of(xs).toFixed(0)).join(' '),
    outside: `the generator ${outside.generator.toFixed(2)} ms, Chromium ${outside.chromium.toFixed(2)} ms of CPU a request`,
  };
  return { rate, reached: count / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]!, errors, cpu, detail };
}

export async function measureMixedLoad(serverUrl: string, postmaster: number, opts: { processes?: number; rates?: number[] } = {}): Promise<{ rows: string[][]; over: number }> {
  const processes = opts.processes ?? PROCESSES;
  // With the jobs on, as in production: the outbox sends the decisions' SMS, the counters are folded.
  const first = await spawnBenchServer(serverUrl, undefined, { jobs: true });
  const others: BenchServer[] = [];
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  try {
    for (let i = 1; i < processes; i++) others.push(await spawnBenchServer(serverUrl, first.database, { jobs: true }));
    const servers = [first, ...others];
    if (others.length) proxy = await startProxy(servers.map((s) => s.base));
    // The generator sends everything to the proxy when there is one; the CPU counted is every app process's and PostgreSQL's.
    const server: BenchServer = proxy ? { ...first, base: proxy.url } : first;
    const cpuMs = () => servers.reduce((sum, s) => sum + processCpuMs(s.pid)!.ms, 0) + postgresCpuMs(postmaster);
    const { reviewIds, printId, printer } = await seed(serverUrl, first);
    const steps = await mix(server, reviewIds, printId, printer);
    // Warm: every page once, the printer's browser started.
    for (const step of steps.slice(0, 200)) await step.send();
    // Then two seconds of the mix, not counted: the pool opens its connections and the JIT has compiled
    // what the load runs, as on a server that has been up a while (the first second had been 3× the rest).
    await atRate(cpuMs, steps, (opts.rates ?? RATES)[0]!, [], 2);
    const rows: string[][] = [];
    let over = 0;
    if (process.env.BENCH_MIX_DETAIL) {
      // Each kind alone, one at a time: where the mix's CPU goes.
      for (const label of new Set(steps.map((s) => s.label))) {
        const step = steps.find((s) => s.label === label)!;
        const n = label === 'agreement PDF' ? 5 : 40;
        const cpu0 = cpuMs();
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await step.send();
        rows.push([`  ${label} alone`, `${((performance.now() - t0) / n).toFixed(1)} ms, ${((cpuMs() - cpu0) / n).toFixed(2)} ms CPU`, '']);
      }
    }
    for (const rate of opts.rates ?? RATES) {
      const loopDelay = () => Promise.all(servers.map(async (s) => (await fetch(`${s.hello}loop-delay`)).json() as Promise<{ p50: number; p99: number; max: number; served: { p50: number; p99: number; max: number } }>));
      await loopDelay();
      const r = await atRate(cpuMs, steps, rate, servers.map((s) => s.pid));
      const loops = await loopDelay();
      const errors = [...r.errors.values()].reduce((a, b) => a + b, 0);
      const within = r.rate < BUDGET.rate || (r.p99 <= BUDGET.p99 && errors === 0);
      over += Number(!within);
      rows.push([
        `mixed load at ${rate} req/s for ${SECONDS} s (1 PDF per 200)${processes > 1 ? `, ${processes} app processes behind a proxy` : ''}`,
        `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(0)} ms; ${errors} errors${errors ? ` (${[...r.errors].map(([k, n]) => `${k}: ${n}`).join('; ')})` : ''}; reached ${r.reached.toFixed(0)} req/s; ${r.cpu.toFixed(2)} ms CPU a request`,
        r.rate >= BUDGET.rate ? `p99 ≤ ${BUDGET.p99} ms, 0 errors${within ? '' : ' OVER'}` : '',
      ]);
      if (process.env.BENCH_MIX_DETAIL) rows.push([`  p99 by kind: ${r.detail.labels}`, '', ''], [`  p99 by second: ${r.detail.seconds}`, '', ''], [`  outside the count: ${r.detail.outside}`, '', ''], [`  the app: event-loop delay ${loops.map((l) => `p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms; handler to response p50 ${l.served.p50} ms, p99 ${l.served.p99} ms, max ${l.served.max} ms`).join('; ')}`, '', '']);
    }
    return { rows, over };
  } finally {
    await proxy?.close();
    for (const s of [first, ...others]) s.child.kill();
  }
}

if (import.meta.main) {
  const { startTestCluster } = await import('../helpers/cluster.ts');
  const cluster = await startTestCluster();
  let over = 0;
  try {
    const measured = await measureMixedLoad(cluster.serverUrl, cluster.postmaster!);
    for (const r of measured.rows) process.stdout.write(r.join('  ') + '\n');
    over = measured.over;
  } finally {
    await cluster.stop();
  }
  process.exit(over ? 1 : 0);
}
