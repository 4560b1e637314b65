import { spawn } from 'node:child_process';
import { localStorage, uploadsDir } from '../../db/storage.ts';
import { BENCH_SEALED_ID_NUMBER } from '../helpers/keys.ts';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { eq } from 'drizzle-orm';
import postgres from 'postgres';
import { connect, type Db } from '../../db/client.ts';
import { ministryExports, users } from '../../db/schema/index.ts';
import { ACTIVE_AGREEMENT_STATES } from '../../domain/agreements/states.ts';
import { actorOf } from '../../domain/auth/sessions.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { refreshSchoolFigures } from '../../domain/statistics/overview.ts';
import { processMinistryExport, requestMinistryExport } from '../../domain/statistics/ministry.ts';
import { runAlone } from './standalone.ts';

// Issue 12 at national scale: 1,000,000 graduates and 3,000,000 agreements across 1,000 schools in
// 31 provinces, 示范大学 the largest with 50,000 graduates. Every 数据统计 page, p95 of 20 requests
// through the app (in-process, signed in), against 500 ms; the statistics job's recount; a live
// count across schools against reading the job's figures (which serves the province and platform
// pages better); 风险预警 and a review page with its flags; and 导出就业方案 of the 50,000 in a process of its own (≤ 20 s, ≤ 300 MB RSS).
const SCHOOLS = 1_000;
const BIG_SCHOOL = 50_000;
const GRADUATES = 1_000_000;
const BUDGET_PAGE_MS = 500;
const BUDGET_EXPORT_S = 20;
const BUDGET_EXPORT_MB = 300;
const REQUESTS = 20;
const WORKER_FLAG = '--ministry-export-worker';
const PROVINCE_CODES = ['12', '13', '14', '15', '21', '22', '23', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65'];

export async function seed(db: Db): Promise<void> {
  const q = db.$client;
  for (const code of PROVINCE_CODES) await q`insert into provinces (code, name) values (${code}, ${regionName(`${code}0000`) ?? code})`;
  // 998 more schools, spread over the 31 provinces, five departments each.
  await q`insert into schools (code, name, province_id, online_signing, paper_registration, destination_registration)
    select (20000 + s)::text, '压测大学' || s, p.id, true, true, true
      from generate_series(1, ${SCHOOLS - 2}) s
      join (select id, row_number() over (order by id) - 1 as n from provinces) p on p.n = s % 31`;
  await q`insert into departments (school_id, name) select s.id, '学院' || d from schools s, generate_series(1, 5) d where s.code >= '20000'`;
  // 示范大学 gets 50,000; the others share the rest (about 950 each).
  const perSchool = Math.floor((GRADUATES - BIG_SCHOOL) / (SCHOOLS - 2));
  await q`insert into graduates (school_id, department_id, cohort, exam_no, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_code, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
    select d.school_id, d.id, 2026, '26110105' || lpad(g::text, 6, '0'), '压测' || g, (1 + g % 2)::text, ${BENCH_SEALED_ID_NUMBER}, 'B' || lpad(g::text, 17, '0'), '110105********0011', '01', '03', '2004-01-01',
           (array['31', '31', '31', '11', '01'])[1 + g % 5], '080901', '专业' || (g % 12), '1', (array['110105', '310104', '330106', '440305', '510107'])[1 + g % 5], 'S' || g, '4', '2022-09', '2026-06', '13900000000'
      from generate_series(1, ${BIG_SCHOOL}) g
      join (select id, school_id, row_number() over (order by id) - 1 as n from departments where school_id = (select id from schools where code = '10001')) d
        on d.n = g % (select count(*) from departments where school_id = (select id from schools where code = '10001'))`;
  await q`insert into graduates (school_id, department_id, cohort, exam_no, name, sex, id_number_sealed, id_number_index, id_number_masked, ethnicity, political_status, birth_date, education_level, major_code, major_name, training_mode, origin_region, student_no, program_years, enrolled_on, graduates_on, phone)
    select d.school_id, d.id, 2026, null, '压测' || s.n || '-' || g, (1 + g % 2)::text, ${BENCH_SEALED_ID_NUMBER}, 'C' || lpad((s.n * 10000 + g)::text, 17, '0'), '110105********0011', '01', '03', '2004-01-01',
           (array['31', '31', '31', '11', '01'])[1 + g % 5], '080901', '专业' || (g % 12), '1', (array['110105', '310104', '330106', '440305', '510107'])[1 + g % 5], 'S' || g, '4', '2022-09', '2026-06', '13900000000'
      from (select id, row_number() over (order by id) as n from schools where code >= '20000') s
      cross join generate_series(1, ${perSchool}) g
      join lateral (select id, school_id from departments where school_id = s.id order by id offset g % 5 limit 1) d on true`;
  // Three agreements each: one that stands (signed, in review, invited, terminated; online, offline
  // or 补登) and two that failed (declined, expired), all from the demo unit's snapshot.
  await q`insert into agreements (kind, state, employer_id, graduate_id, school_id, department_id, cohort, invited_at, validity_days, deadline, contact_name, contact_phone, work_place,
                                   position_category, position_name, archive_mode, unit_snapshot)
    select (case when k > 0 or g.id % 10 < 6 then 'online' when g.id % 10 < 8 then 'offline' else 'registered' end)::agreement_kind,
           (case when k = 1 then 'declined' when k = 2 then 'expired'
                 else (array['signed', 'signed', 'signed', 'invited', 'department_review', 'terminated', 'signed', 'signing_school_review', 'signed', 'registration_department_review'])[1 + g.id % 10] end)::agreement_state,
           e.id, g.id, g.school_id, g.department_id, 2026, now(), 7, now() + interval '7 days', '王经理', '13800000000', '北京',
           '13', '工程师', 'none', jsonb_build_object('name', e.name, 'uscc', e.uscc, 'employerType', '39', 'industry', '34', 'region', '110108', 'address', '北京')
      from graduates g cross join generate_series(0, 2) k cross join (select id, name, uscc from employers order by id limit 1) e
     where g.id_number_index like 'B%' or g.id_number_index like 'C%'`;
  // The destination projection, as the workflows keep it: 10 when signed, 70 after a termination, and
  // for half of the rest an approved registration's code.
  await q`insert into graduate_destinations (graduate_id, school_id, code)
    select g.id, g.school_id, case when g.id % 10 in (0, 1, 2, 6, 8) then '10' when g.id % 10 = 5 then '70'
                                   when g.id % 2 = 1 then (array['11', '12', '75', '76', '80', '85', '71'])[1 + (g.id / 10) % 7] end
      from graduates g where g.id_number_index like 'B%' or g.id_number_index like 'C%'`;
  // 示范大学's audit trail of the last 30 days: each agreement accepted, then approved an hour later.
  await q`insert into events (occurred_at, actor_user_id, actor_role, school_id, subject_type, subject_id, action, from_state, to_state, seconds_since_previous)
    select t.at + k * interval '1 hour', case when k = 1 then (select id from users where login = '10001-admin') end, case when k = 1 then 'school' else 'student' end,
           a.school_id, 'agreement', a.id::text, case when k = 1 then 'agreement.approve' else 'agreement.accept' end,
           case when k = 1 then 'school_review' else 'invited' end, case when k = 1 then 'signed' else 'school_review' end, case when k = 1 then 3600 end
      from agreements a cross join lateral (select now() - (a.id % 30) * interval '1 day' - interval '2 hours' as at) t cross join generate_series(0, 1) k
     where a.school_id = (select id from schools where code = '10001')`;
  await q`vacuum analyze`;
}

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.95) - 1]!;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

type WorkerReport = { seconds: number; maxRssKb: number; rows: number };

async function runExportWorker(url: string, id: number, dataDir: string): Promise<WorkerReport> {
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { scripts: { start: string } };
  const flags = pkg.scripts.start.split(/\s+/).filter((a) => a.startsWith('--'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, fileURLToPath(import.meta.url), WORKER_FLAG, url, String(id), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerReport) : reject(new Error(`export worker exited with ${code}`))));
  });
}

export async function measureStatistics(serverUrl: string): Promise<{ rows: string[][]; over: number }> {
  const { TEMPLATE_DB } = await import('../helpers/cluster.ts');
  const { appOnDb, DEMO_ACCOUNTS } = await import('../helpers/app.ts');
  const name = `bench_statistics_${randomBytes(4).toString('hex')}`;
  const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
  const url = `${serverUrl}/${name}`;
  const db = connect(url, 4);
  const dataDir = await mkdtemp(join(tmpdir(), 'wq-bench-statistics-'));
  try {
    const started = performance.now();
    await seed(db);
    const [{ graduates, agreements }] = (await db.$client`select (select count(*) from graduates)::int as graduates, (select count(*) from agreements)::int as agreements`) as unknown as [{ graduates: number; agreements: number }];
    const seeded = ((performance.now() - started) / 1000).toFixed(0);
    const rows: string[][] = [[`数据统计 at ${graduates.toLocaleString('en')} graduates, ${agreements.toLocaleString('en')} agreements, ${SCHOOLS} schools (seeded in ${seeded} s)`, '', '']];
    let over = 0;

    // The statistics job's recount, and what a live count across schools would cost a page instead.
    const refresh = await timed(() => db.transaction((tx) => refreshSchoolFigures(tx)));
    rows.push(['  statistics job: recount every school (every 10 min)', `${(refresh / 1000).toFixed(1)} s`, '']);
    const bj = (await db.$client`select id from provinces where code = '11'`)[0]!.id as number;
    const liveProvince = await timed(() => db.$client`select g.school_id, d.code, count(*) from graduates g join schools s on s.id = g.school_id left join graduate_destinations d on d.graduate_id = g.id
        where s.province_id = ${bj} and g.cohort = 2026 and g.removed_at is null group by 1, 2`);
    const livePlatform = await timed(() => db.$client`select g.school_id, d.code, count(*) from graduates g left join graduate_destinations d on d.graduate_id = g.id where g.cohort = 2026 and g.removed_at is null group by 1, 2`);
    const liveAgreements = await timed(() => db.$client`select school_id, kind, state, sum(n) from agreement_counts where cohort = 2026 group by 1, 2, 3 having sum(n) <> 0`);
    rows.push(['  live count, 北京 schools\' graduates (no agreements)', `${liveProvince.toFixed(0)} ms`, '']);
    rows.push(['  live count, every school\'s graduates', `${livePlatform.toFixed(0)} ms`, '']);
    rows.push(['  live count, every school\'s agreements (their counters, agreement_counts)', `${liveAgreements.toFixed(0)} ms`, '']);

    if (process.env.BENCH_EXPLAIN) {
      const sid = (await db.$client`select id from schools where code = '10001'`)[0]!.id as number;
      for (const q of [
        `select c.kind, c.state, sum(c.n) from agreement_counts c where c.school_id = ${sid} and c.cohort = 2026 group by 1, 2 having sum(c.n) <> 0`,
        `select g.department_id, coalesce(d.code, ''), count(*) from graduates g left join graduate_destinations d on d.graduate_id = g.id and d.school_id = g.school_id where g.school_id = ${sid} and g.cohort = 2026 and g.removed_at is null group by grouping sets ((), (g.department_id), (coalesce(d.code, '')))`,
        `select distinct cohort from graduates where school_id = ${sid} and removed_at is null`,
        `select a.unit_uscc, count(distinct a.graduate_id) from agreements a where a.school_id = ${sid} and a.state in (${ACTIVE_AGREEMENT_STATES.map((x) => `'${x}'`).join(', ')}) group by 1 having count(distinct a.graduate_id) >= 5`,
      ]) process.stderr.write((await db.$client.unsafe(`explain (analyze, buffers) ${q}`)).map((r) => r['QUERY PLAN']).join('\n') + '\n---\n');
    }
    if (process.env.BENCH_EXPLAIN) {
      const flags = await import('../../domain/reviews/flags.ts');
      const sid = (await db.$client`select id from schools where code = '10001'`)[0]!.id as number;
      const uscc = (await db.$client`select uscc from employers order by id limit 1`)[0]!.uscc as string;
      for (const [label, run] of [
        ['unitFlags', () => flags.unitFlags(db, sid)],
        ['unitFlags one unit', () => flags.unitFlags(db, sid, uscc)],
        ['reviewerFlags', () => flags.reviewerFlags(db, sid, '审核')],
        ['proofFlags', () => flags.proofFlags(db, sid)],
        ['waitFlags', () => flags.waitFlags(db, sid, '审核')],
      ] as const) {
        await run();
        process.stderr.write(`${label}: ${(await timed(run)).toFixed(0)} ms\n`);
      }
    }
    const { client } = appOnDb(db);
    const signIn = async (account: keyof typeof DEMO_ACCOUNTS) => {
      const c = client();
      const { portal, login, password } = DEMO_ACCOUNTS[account];
      const res = await c.post(`/${portal}/login`, { login, password });
      if (res.status !== 303) throw new Error(`bench sign-in as ${account}: ${res.status}`);
      return c;
    };
    const [school, department, province, platform] = await Promise.all([signIn('school'), signIn('department'), signIn('province'), signIn('admin')]);
    const reviewed = (await db.$client`select a.id from agreements a join schools s on s.id = a.school_id where s.code = '10001' and a.kind = 'online' and a.state = 'signed' order by a.id desc limit 1`)[0]!.id as number;
    const guangdong = (await db.$client`select id from provinces where code = '44'`)[0]!.id as number;
    for (const [label, c, path] of [
      ['/school/statistics (示范大学, 50,000 graduates, live)', school, '/school/statistics?cohort=2026'],
      ['/school/statistics (a department, live)', department, '/school/statistics?cohort=2026'],
      ['/school/statistics/export.xlsx (50,000, live)', school, '/school/statistics/export.xlsx?cohort=2026'],
      ['/province/statistics (北京, from the job\'s figures)', province, '/province/statistics?cohort=2026'],
      ['/province/statistics/schools/10001 (live)', province, '/province/statistics/schools/10001?cohort=2026'],
      ['/admin/statistics (1,000 schools, from the job\'s figures)', platform, '/admin/statistics?cohort=2026'],
      ['/admin/statistics?province=广东&page=2', platform, `/admin/statistics?cohort=2026&province=${guangdong}&page=2`],
      ['/admin/statistics/export.xlsx (1,000 schools)', platform, '/admin/statistics/export.xlsx?cohort=2026'],
      ['/admin/statistics/schools/20001 (live)', platform, '/admin/statistics/schools/20001?cohort=2026'],
      ['/school/review-flags (风险预警, 150,000 agreements, 300,000 events)', school, '/school/review-flags'],
      ['/school/agreements/:id (a review page with its flags)', school, `/school/agreements/${reviewed}`],
    ] as const) {
      const first = await c.get(path);
      if (first.status !== 200) throw new Error(`${path} answered ${first.status}`);
      if (!path.includes('.xlsx')) rows.push([`  ${label.split(' ')[0]} gzip size`, `${(gzipSync(first.bytes).length / 1024).toFixed(1)} KB`, '']);
      const samples: number[] = [];
      for (let i = 0; i < REQUESTS; i++) samples.push(await timed(() => c.get(path)));
      const ms = p95(samples);
      rows.push([`  ${label} p95 of ${REQUESTS}`, `${ms.toFixed(0)} ms`, `≤ ${BUDGET_PAGE_MS} ms`]);
      over += Number(ms > BUDGET_PAGE_MS);
    }

    // 导出就业方案 of 示范大学's 50,000 (and its demo graduates) in a process of its own.
    const [schoolUser] = await db.select().from(users).where(eq(users.login, '10001-admin'));
    const id = await requestMinistryExport(db, { actor: actorOf(schoolUser!, 'bench', false), ip: null }, 2026);
    const report = await runExportWorker(url, id, dataDir);
    const [done] = await db.select().from(ministryExports).where(eq(ministryExports.id, id));
    if (done?.status !== 'done') throw new Error(`export ended ${done?.status}`);
    const mb = report.maxRssKb / 1024;
    rows.push([`  导出就业方案 ${report.rows.toLocaleString('en')} graduates: time`, `${report.seconds.toFixed(1)} s`, `≤ ${BUDGET_EXPORT_S} s`]);
    rows.push(['  peak RSS of the export process', `${mb.toFixed(0)} MB`, `≤ ${BUDGET_EXPORT_MB} MB`]);
    rows.push(['  file size', `${((done.bytes ?? 0) / 1048576).toFixed(1)} MB`, '']);
    over += Number(report.seconds > BUDGET_EXPORT_S) + Number(mb > BUDGET_EXPORT_MB);
    return { rows, over };
  } finally {
    await db.$client.end();
    await rm(dataDir, { recursive: true, force: true });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

if (import.meta.main && process.argv[2] === WORKER_FLAG) {
  const [url, id, dataDir] = process.argv.slice(3) as [string, string, string];
  const db = connect(url, 2);
  const started = performance.now();
  await processMinistryExport(db, localStorage(uploadsDir(dataDir)), Number(id));
  const seconds = (performance.now() - started) / 1000;
  const [row] = await db.select().from(ministryExports).where(eq(ministryExports.id, Number(id)));
  await db.$client.end();
  process.stdout.write(JSON.stringify({ seconds, maxRssKb: process.resourceUsage().maxRSS, rows: row?.processedRows ?? 0 } satisfies WorkerReport));
} else if (import.meta.main) {
  await runAlone(measureStatistics);
}
