import { spawn } from 'node:child_process';
import { localStorage, uploadsDir } from '../../db/storage.ts';
import '../helpers/keys.ts'; // the worker process seals ID numbers too
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import postgres from 'postgres';
import { connect } from '../../db/client.ts';
import { users } from '../../db/schema/index.ts';
import { actorOf, type Actor } from '../../domain/auth/sessions.ts';
import { makeIdNumber } from '../../domain/codes/id-number.ts';
import { S5_FIELDS } from '../../domain/graduates/record.ts';
import { getRosterImport, processRosterImport, queueRosterImport } from '../../domain/graduates/roster-import.ts';
import { runAlone } from './standalone.ts';

// The issue-3 budget: a 50,000-row roster import in ≤ 60 s and ≤ 500 MB. The import runs in a
// child process of its own, so its peak RSS is the import's, not the bench's or the generator's;
// the test cluster's modules are loaded on demand for the same reason.
const ROWS = 50_000;
const BUDGET_SECONDS = 60;
const BUDGET_MB = 500;
const WORKER_FLAG = '--import-worker';

const REGIONS = ['330106', '110105', '310104', '440305', '510107'];
const DEPARTMENTS = ['计算机学院', '经济管理学院', '外国语学院', '机械工程学院', '数学科学学院', '医学院'];
const SURNAMES = '王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗';

function benchRow(i: number): string[] {
  const region = REGIONS[i % REGIONS.length]!;
  const day = new Date(Date.UTC(2003, 0, 1 + (Math.floor(i / REGIONS.length) % 700))).toISOString().slice(0, 10);
  const sex = i % 2 === 0 ? '1' : '2';
  const values: Record<string, string> = {
    考生号: `23${region.slice(0, 4)}${String(i).padStart(8, '0')}`,
    姓名: `${SURNAMES[i % SURNAMES.length]}同学${i}`,
    性别: sex,
    身份证号: makeIdNumber(region, day, 100 + 2 * Math.floor(i / (REGIONS.length * 700)), sex),
    民族: '01',
    政治面貌: '03',
    出生日期: day,
    毕业院校: '示范大学',
    院系: DEPARTMENTS[i % DEPARTMENTS.length]!,
    学历层次: '31',
    专业: `专业${i % 40}`,
    培养方式: '1',
    生源所在地: region,
    学号: `2022${String(i).padStart(6, '0')}`,
    学制: '4',
    入学时间: '2022-09',
    毕业时间: '2026-06',
    手机号码: `13${String(i).padStart(9, '0')}`,
    电子邮箱: `s${i}@stu.example.edu.cn`,
  };
  return S5_FIELDS.map((f) => values[f.header]!);
}

/** Written as Excel writes it: shared strings, which the reader meets after the sheet. */
async function writeRosterFile(path: string): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: false });
  const sheet = workbook.addWorksheet('学生名单');
  sheet.addRow(S5_FIELDS.map((f) => f.header)).commit();
  for (let i = 0; i < ROWS; i++) sheet.addRow(benchRow(i)).commit();
  sheet.commit();
  await workbook.commit();
}

async function createDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const { TEMPLATE_DB } = await import('../helpers/cluster.ts');
  const name = `bench_import_${randomBytes(4).toString('hex')}`;
  const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
  return {
    url: `${serverUrl}/${name}`,
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

async function schoolActor(url: string): Promise<Actor> {
  const db = connect(url, 1);
  const [u] = await db.select().from(users).where(eq(users.login, '10001-admin'));
  await db.$client.end();
  return actorOf(u!, 'bench', false);
}

type WorkerReport = { seconds: number; maxRssKb: number };

/** The Node flags of `npm start`, so the import is measured as the server runs it. */
async function startFlags(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((a) => a.startsWith('--'));
}

async function runWorker(url: string, importId: number, dataDir: string): Promise<WorkerReport> {
  const flags = await startFlags();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, fileURLToPath(import.meta.url), WORKER_FLAG, url, String(importId), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerReport) : reject(new Error(`import worker exited with ${code}`))));
  });
}

/** Generates the file, queues it for 示范大学 and runs the import in a child process; table rows and the count over budget. */
export async function measureRosterImport(serverUrl: string): Promise<{ rows: string[][]; over: number }> {
  const database = await createDatabase(serverUrl);
  const dataDir = await mkdtemp(join(tmpdir(), 'wq-bench-import-'));
  try {
    const file = join(dataDir, 'roster.xlsx');
    await writeRosterFile(file);
    const actor = await schoolActor(database.url);
    const db = connect(database.url, 2);
    try {
      const id = await queueRosterImport(db, localStorage(uploadsDir(dataDir)), actor, { cohort: 2027, fileName: 'roster.xlsx', bytes: await readFile(file) });
      const report = await runWorker(database.url, id, dataDir);
      const result = await getRosterImport(db, actor, id);
      if (result.status !== 'done' || result.inserted !== ROWS) throw new Error(`import ended ${result.status}: ${result.inserted} inserted, ${result.rejected} rejected, ${result.error ?? ''}`);
      const mb = report.maxRssKb / 1024;
      return {
        rows: [
          [`roster import ${ROWS.toLocaleString('en')} rows: time`, `${report.seconds.toFixed(1)} s`, `≤ ${BUDGET_SECONDS} s${report.seconds > BUDGET_SECONDS ? ' OVER' : ''}`],
          ['  peak RSS of the import process', `${mb.toFixed(0)} MB`, `≤ ${BUDGET_MB} MB${mb > BUDGET_MB ? ' OVER' : ''}`],
        ],
        over: Number(report.seconds > BUDGET_SECONDS) + Number(mb > BUDGET_MB),
      };
    } finally {
      await db.$client.end();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await database.drop();
  }
}

if (import.meta.main && process.argv[2] === WORKER_FLAG) {
  const [url, importId, dataDir] = process.argv.slice(3) as [string, string, string];
  const db = connect(url, 2);
  const started = performance.now();
  await processRosterImport(db, localStorage(uploadsDir(dataDir)), Number(importId));
  const seconds = (performance.now() - started) / 1000;
  await db.$client.end();
  process.stdout.write(JSON.stringify({ seconds, maxRssKb: process.resourceUsage().maxRSS } satisfies WorkerReport));
} else if (import.meta.main) {
  await runAlone(measureRosterImport);
}
