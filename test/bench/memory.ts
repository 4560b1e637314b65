import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../db/embedded.ts';

// Issue 14, goal 5: memory at rest of a whole platform as `npm start` runs it (node, the embedded
// PostgreSQL, Chromium) in a fresh DATA_DIR: after one PDF, and again once it has been idle past the
// printer's and the pool's one-minute idle times. RSS counts pages shared between processes (the
// database's shared buffers, Chromium's and PostgreSQL's libraries) once per process; PSS shares
// them out, so the sum of PSS is what the platform really holds, and is what the budget judges.
const SERVER = fileURLToPath(new URL('../../server.ts', import.meta.url));
const BUDGET_MB = 600;
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 75_000);

type Proc = { pid: number; ppid: number; name: string };

function processes(): Proc[] {
  const all: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      all.push({ pid: Number(entry), ppid, name });
    } catch {
      // ended meanwhile
    }
  }
  return all;
}

/** RSS and PSS of a process, in MB (0 when it has ended). */
function memoryOf(pid: number): { rss: number; pss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024 };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** The platform's processes by part: node itself, Chromium (node's descendants), PostgreSQL (the postmaster and its children). */
function platformMemory(node: number) {
  const all = processes();
  const descendants = (root: number) => {
    const found = new Set([root]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of all) if (!found.has(p.pid) && found.has(p.ppid)) (found.add(p.pid), (grew = true));
    }
    found.delete(root);
    return [...found];
  };
  const below = descendants(node).map((pid) => all.find((p) => p.pid === pid)!);
  const postmaster = below.find((p) => p.name === 'postgres' && all.find((q) => q.pid === p.ppid)?.name !== 'postgres');
  const postgres = postmaster ? [postmaster.pid, ...descendants(postmaster.pid)] : [];
  // The embedded server may run detached under a watchdog rather than below node: find it by name then.
  const pg = postgres.length ? postgres : all.filter((p) => p.name === 'postgres').map((p) => p.pid);
  // Chromium's processes (browser, zygotes, renderers, GPU/utility) by name; the database watchdog (sh, sleep) is left out.
  const chromium = below.filter((p) => !pg.includes(p.pid) && /chrom|headless/i.test(p.name)).map((p) => p.pid);
  const sum = (pids: number[]) => pids.map(memoryOf).reduce((a, m) => ({ rss: a.rss + m.rss, pss: a.pss + m.pss }), { rss: 0, pss: 0 });
  return { node: memoryOf(node), postgres: { ...sum(pg), count: pg.length }, chromium: { ...sum(chromium), count: chromium.length } };
}

export async function measureMemoryAtRest(): Promise<{ rows: string[][]; over: number }> {
  const parent = await mkdtemp(join(tmpdir(), 'wq-bench-memory-'));
  await chmod(parent, 0o755);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--max-semi-space-size=16', '--expose-gc', SERVER], {
    env: { ...process.env, DATA_DIR: join(parent, 'data'), PORT: String(port), HOST: '127.0.0.1', CAPTCHA: 'off', DATABASE_URL: '', DEMO: '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    for (let i = 0; !(await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false)); i++) {
      if (i > 1200 || child.exitCode !== null) throw new Error(`the platform did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const signIn = await fetch(`${base}/employer/login`, { method: 'POST', redirect: 'manual', headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ login: '13800000001', password: 'Employer#2026' }) });
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    const pdf = await fetch(`${base}/employer/authorization-letter.pdf`, { headers: { cookie } });
    if (!pdf.ok || !(await pdf.arrayBuffer()).byteLength) throw new Error(`the PDF failed: ${pdf.status}`);
    for (const path of ['/employer', '/employer/favourites', '/employer/agreements']) await (await fetch(`${base}${path}`, { headers: { cookie } })).arrayBuffer();
    const busy = platformMemory(child.pid!);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = platformMemory(child.pid!);
    const total = (m: typeof idle) => ({ rss: m.node.rss + m.postgres.rss + m.chromium.rss, pss: m.node.pss + m.postgres.pss + m.chromium.pss });
    const mb = (n: number) => `${n.toFixed(0)} MB`;
    const line = (m: typeof idle) =>
      `PSS ${mb(total(m).pss)} (node ${mb(m.node.pss)}, PostgreSQL ${mb(m.postgres.pss)} in ${m.postgres.count}, Chromium ${mb(m.chromium.pss)} in ${m.chromium.count}); RSS sum ${mb(total(m).rss)} (node ${mb(m.node.rss)}, PostgreSQL ${mb(m.postgres.rss)}, Chromium ${mb(m.chromium.rss)})`;
    const over = Number(total(idle).pss > BUDGET_MB);
    return {
      rows: [
        ['memory right after one PDF', line(busy), ''],
        [`memory at rest (${Math.round(IDLE_MS / 1000)} s idle after it)`, line(idle), `PSS ≤ ${BUDGET_MB} MB${over ? ' OVER' : ''}`],
      ],
      over,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(parent, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { rows, over } = await measureMemoryAtRest();
  for (const r of rows) process.stdout.write(r.join('  ') + '\n');
  process.exit(over ? 1 : 0);
}
