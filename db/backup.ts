import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Db } from './client.ts';
import { checkIdNumberSample, KEY_SAMPLES_SQL } from '../domain/graduates/id-numbers-at-rest.ts';
import { MIGRATIONS_DIR, migrateDatabase, reservedTransaction } from './client.ts';
import { uploadsDir } from './storage.ts';

// Backups: `npm run backup` and `npm run restore` (scripts/), and the nightly job when BACKUP_DIR
// is set. A backup is a directory: every table of one consistent snapshot as COPY text (gzip), a
// manifest (the schema's migration, each table's columns and rows, every sequence's position) and
// the uploaded files. pg_dump is not used: the embedded server ships without it, and Debian's
// (PostgreSQL 15) refuses to dump a newer server. The schema is the migrations' own, so a restore
// creates it by migrating an empty database to the backup's migration, loads the rows in one
// transaction, and migrates on to the running version.

export const BACKUP_FORMAT = 1;

export type BackupManifest = {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  /** The last migration applied to the backed-up database. */
  migration: string;
  tables: Array<{ name: string; columns: string[]; rows: number }>;
  sequences: Array<{ name: string; lastValue: string | null; isCalled: boolean }>;
  uploads: number;
};

type Journal = { entries: Array<{ idx: number; tag: string; when: number }> };

async function journal(): Promise<Journal> {
  return JSON.parse(await readFile(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as Journal;
}

/** The migration the database is at: the newest applied, matched to the journal by its time. */
async function appliedMigration(db: Db): Promise<string> {
  const [row] = await db.$client`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`;
  const entry = (await journal()).entries.find((e) => String(e.when) === String(row?.created_at));
  if (!entry) throw new Error('数据库的迁移记录与本版本的迁移文件不一致，无法备份。');
  return entry.tag;
}

/** The tables of the public schema, each after the tables it references. */
async function tablesInOrder(db: Db): Promise<Array<{ name: string; columns: string[] }>> {
  const tables = await db.$client<Array<{ name: string; columns: string[]; refs: string[] }>>`
    select c.relname as name,
           array(select a.attname::text from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' order by a.attnum) as columns,
           array(select distinct r.relname::text from pg_constraint k join pg_class r on r.oid = k.confrelid where k.conrelid = c.oid and k.contype = 'f' and r.oid <> c.oid) as refs
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r'
     order by c.relname`;
  const ordered: Array<{ name: string; columns: string[]; refs: string[] }> = [];
  const placed = new Set<string>();
  while (ordered.length < tables.length) {
    const next = tables.filter((t) => !placed.has(t.name) && t.refs.every((r) => placed.has(r)));
    if (next.length === 0) throw new Error('tables reference each other in a cycle');
    for (const t of next) {
      ordered.push(t);
      placed.add(t.name);
    }
  }
  return ordered.map(({ name, columns }) => ({ name, columns }));
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function countFiles(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
}

/**
 * Writes a backup of the database (one repeatable-read snapshot) and of DATA_DIR's uploads into a
 * new directory under `backupDir`; returns its path. A backup cut off midway leaves only a
 * `.partial` directory, never one that looks complete.
 */
export async function backupDatabase(db: Db, opts: { dataDir: string; backupDir: string; now?: Date }): Promise<string> {
  const stamp = (opts.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const final = join(opts.backupDir, `wq-backup-${stamp}`);
  const partial = `${final}.partial`;
  await mkdir(join(partial, 'tables'), { recursive: true });
  try {
    const manifest = await reservedTransaction(db.$client, 'isolation level repeatable read read only', async (tx) => {
      const tables: BackupManifest['tables'] = [];
      for (const t of await tablesInOrder(db)) {
        const [{ n }] = (await tx.unsafe(`select count(*)::int as n from ${ident(t.name)}`)) as unknown as [{ n: number }];
        const out = await tx.unsafe(`copy ${ident(t.name)} (${t.columns.map(ident).join(', ')}) to stdout`).readable();
        await pipeline(out, createGzip(), createWriteStream(join(partial, 'tables', `${t.name}.tsv.gz`), { mode: 0o600 }));
        tables.push({ ...t, rows: n });
      }
      const sequences: BackupManifest['sequences'] = [];
      for (const { name } of (await tx`select sequencename as name from pg_sequences where schemaname = 'public' order by 1`) as unknown as Array<{ name: string }>) {
        const [s] = (await tx.unsafe(`select last_value::text as "lastValue", is_called as "isCalled" from ${ident(name)}`)) as unknown as [{ lastValue: string; isCalled: boolean }];
        sequences.push({ name, ...s });
      }
      return { tables, sequences };
    });
    const uploads = uploadsDir(opts.dataDir);
    if (existsSync(uploads)) await cp(uploads, join(partial, 'uploads'), { recursive: true });
    const full: BackupManifest = { format: BACKUP_FORMAT, createdAt: new Date().toISOString(), migration: await appliedMigration(db), ...manifest, uploads: await countFiles(join(partial, 'uploads')) };
    await writeFile(join(partial, 'manifest.json'), JSON.stringify(full, null, 2), { mode: 0o600 });
    await rename(partial, final);
    return final;
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Restores a backup into an empty database and an empty uploads folder: the schema by migrating to
 * the backup's migration, every row in one transaction (nothing stays if any table fails), the
 * sequences where they were, then the migrations since. Refuses a database that holds tables.
 */
export async function restoreDatabase(db: Db, opts: { dataDir: string; from: string }): Promise<BackupManifest> {
  const manifest = JSON.parse(await readFile(join(opts.from, 'manifest.json'), 'utf8')) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT) throw new Error(`不认识的备份格式：${String(manifest.format)}`);
  // Empty means nothing at all in public (no table, view, sequence, type or function) and no drizzle
  // schema: a failed restore then drops only what it created.
  const [{ n }] = (await db.$client`
    select (select count(*) from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = 'public')
         + (select count(*) from pg_type t join pg_namespace s on s.oid = t.typnamespace where s.nspname = 'public' and t.typtype in ('e', 'c', 'd', 'r') and t.typrelid = 0)
         + (select count(*) from pg_proc p join pg_namespace s on s.oid = p.pronamespace where s.nspname = 'public')
         + (select count(*) from pg_namespace where nspname = 'drizzle') as n`) as unknown as [{ n: number }];
  if (Number(n) > 0) throw new Error('目标数据库不是空的：恢复只写入新建的空数据库（例如一个新的 DATA_DIR）。');
  const uploads = uploadsDir(opts.dataDir);
  if ((await countFiles(uploads)) > 0) throw new Error(`上传文件目录 ${uploads} 不是空的：恢复只写入空目录。`);
  const entries = (await journal()).entries;
  const upTo = entries.findIndex((e) => e.tag === manifest.migration);
  if (upTo < 0) throw new Error(`备份来自更新的版本（迁移 ${manifest.migration}），请用同一或更新版本的平台恢复。`);

  // The schema as it was: the migrations up to the backup's, from a copy with the journal cut there.
  const folder = await mkdtemp(join(tmpdir(), 'wq-restore-'));
  try {
    await cp(MIGRATIONS_DIR, folder, { recursive: true });
    await writeFile(join(folder, 'meta/_journal.json'), JSON.stringify({ ...(await journal()), entries: entries.slice(0, upTo + 1) }));
    await migrate(db, { migrationsFolder: folder });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  try {
    await reservedTransaction(db.$client, '', async (tx) => {
      for (const t of manifest.tables) {
        // The rows come back as they were: the schema's own triggers (the school cache versions of
        // migration 0020) do not fire on them.
        await tx.unsafe(`alter table ${ident(t.name)} disable trigger user`);
        const into = await tx.unsafe(`copy ${ident(t.name)} (${t.columns.map(ident).join(', ')}) from stdin`).writable();
        await pipeline(createReadStream(join(opts.from, 'tables', `${t.name}.tsv.gz`)), createGunzip(), into);
        await tx.unsafe(`alter table ${ident(t.name)} enable trigger user`);
        const [{ rows }] = (await tx.unsafe(`select count(*)::int as rows from ${ident(t.name)}`)) as unknown as [{ rows: number }];
        if (rows !== t.rows) throw new Error(`表 ${t.name} 恢复了 ${rows} 行，备份中为 ${t.rows} 行。`);
      }
      for (const s of manifest.sequences) if (s.lastValue !== null) await tx.unsafe(`select setval('${ident(s.name).replaceAll("'", "''")}', $1::bigint, $2)`, [s.lastValue, s.isCalled]);
      // The ID numbers came sealed: refuse keys that cannot open them, before anything is kept.
      if (manifest.tables.some((t) => t.name === 'graduates' && t.columns.includes('id_number_sealed'))) {
        const samples = (await tx.unsafe(KEY_SAMPLES_SQL)) as unknown as Array<{ sealed: string; index: string | null }>;
        for (const sample of samples) checkIdNumberSample(sample.sealed, sample.index);
      }
    });
  } catch (e) {
    // Nothing half-restored stays: the database is empty again.
    await db.$client.unsafe('drop schema if exists drizzle cascade; drop schema public cascade; create schema public');
    throw e;
  }
  if (existsSync(join(opts.from, 'uploads'))) await cp(join(opts.from, 'uploads'), uploads, { recursive: true });
  await migrateDatabase(db);
  return manifest;
}

/** Keeps the newest `keep` complete backups in `backupDir`, and removes partial ones left by a backup cut off more than a day ago. */
export async function pruneBackups(backupDir: string, keep: number): Promise<string[]> {
  if (!existsSync(backupDir)) return [];
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString().replace(/[:.]/g, '-');
  for (const n of await readdir(backupDir)) if (/^wq-backup-[0-9TZ-]+\.partial$/.test(n) && n.slice('wq-backup-'.length) < dayAgo) await rm(join(backupDir, n), { recursive: true, force: true });
  const names = (await readdir(backupDir)).filter((n) => /^wq-backup-[0-9TZ-]+$/.test(n)).sort();
  const removed = names.slice(0, Math.max(0, names.length - keep));
  for (const n of removed) await rm(join(backupDir, n), { recursive: true, force: true });
  return removed;
}
