import { basename } from 'node:path';
import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../../db/client.ts';
import type { Storage } from '../../db/storage.ts';
import { departments, graduates, rosterImportErrors, rosterImports, schools, users } from '../../db/schema/index.ts';
import { actorOf, type Actor } from '../auth/sessions.ts';
import { maskIdNumber, maskIdNumbersIn } from '../codes/id-number.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';
import { storedIdNumber } from '../../db/id-number-keys.ts';
import { openUploadedIdNumber, sealUploadedIdNumber } from './id-numbers-at-rest.ts';
import { describeRosterErrors, fieldOfHeader, ROSTER_FIELDS, validateRosterRecord, type FieldKey, type NormalizedRecord, type RosterInput } from './record.ts';
import { applyRosterChange, changedKeyFields } from './roster-change.ts';
import { compressed, streamedWorkbook } from '../spreadsheets/streamed-workbook.ts';
import { ID_NUMBER_STORED_AS_NUMBER, idNumberStoredAsNumber, OLD_XLS, spreadsheetKind, spreadsheetRows, UnreadableSheet } from '../spreadsheets/sheet-rows.ts';

// 导入学生名单 (issue 3, rule S5). The upload is stored and queued; processing streams the sheet
// and commits one batch per transaction together with the progress, so a school watches it advance,
// and a worker that dies mid-file is resumed after the last committed batch.

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
const DEFAULT_BATCH_SIZE = 1000;
/** A running import whose heartbeat is older than this is taken over (its worker died). */
export const STALE_AFTER = '2 minutes';

export type RosterImportRequest = { cohort: number; fileName: string; bytes: Uint8Array };

/** Roster imports belong to the school office; department users manage no roster. */
function importingSchoolId(actor: Actor): number {
  if (actor.role !== 'school' || actor.schoolId === null) throw forbidden();
  return actor.schoolId;
}

// Every .xlsx is a ZIP archive; an .xls, CSV or renamed picture is refused before it is stored.

export async function queueRosterImport(db: DbOrTx, storage: Storage, actor: Actor, request: RosterImportRequest): Promise<number> {
  const schoolId = importingSchoolId(actor);
  if (!Number.isInteger(request.cohort) || request.cohort < 2000 || request.cohort > 2100) {
    throw new DomainError('invalid', '届别不正确', { cohort: '请填写毕业年份，例如 2026' });
  }
  if (request.bytes.length > MAX_UPLOAD_BYTES) {
    throw new DomainError('invalid', '文件不能超过20MB', { file: '文件不能超过20MB' });
  }
  // .xlsx, or CSV in UTF-8 or GBK; an old .xls is refused before anything else happens.
  const kind = spreadsheetKind(request.bytes);
  if (kind === 'xls') throw new DomainError('invalid', OLD_XLS, { file: OLD_XLS });
  // Kept in the storage, so any app process (or its job, after a crash) can run the import.
  const storedAs = await storage.put(request.bytes, kind, { transient: true });
  try {
    const [row] = await db
      .insert(rosterImports)
      .values({ schoolId, cohort: request.cohort, uploadedBy: actor.userId, fileName: basename(request.fileName).slice(0, 200) || '学生名单.xlsx', storedAs })
      .returning({ id: rosterImports.id });
    return row!.id;
  } catch (e) {
    await storage.delete(storedAs);
    throw e;
  }
}

/** A problem with the file as a whole (not a workbook, wrong header, no data): the import fails with this message. */
class FileProblem extends Error {}
/** Another worker took the import over; this one stops without touching it. */
class ImportTakenOver extends Error {}

type ClaimedImport = typeof rosterImports.$inferSelect;
type Progress = { processed: number; inserted: number; updated: number; rejected: number };
type RejectedRow = { rowNumber: number; reasons: string[]; values: Record<string, string> };
type Batch = { size: number; valid: NormalizedRecord[]; rejected: RejectedRow[]; regionNames: Record<string, string> };
type ImportRun = { claimed: ClaimedImport; school: { id: number; code: string; name: string }; source: EventSource; progress: Progress };

async function claimImport(db: Db, importId: number): Promise<ClaimedImport | undefined> {
  const [row] = await db
    .update(rosterImports)
    .set({ status: 'running', heartbeatAt: sql`now()` })
    .where(
      and(
        eq(rosterImports.id, importId),
        sql`(${rosterImports.status} = 'queued' or (${rosterImports.status} = 'running' and ${rosterImports.heartbeatAt} < now() - ${STALE_AFTER}::interval))`,
      ),
    )
    .returning();
  return row;
}

/**
 * Runs one queued import to its end. Returns at once when another worker holds it. Never runs
 * inside a caller's transaction: each batch commits on its own.
 */
export async function processRosterImport(db: Db, storage: Storage, importId: number, opts: { batchSize?: number } = {}): Promise<void> {
  const claimed = await claimImport(db, importId);
  if (!claimed) return;
  const run = await startRun(db, claimed);
  let outcome: Outcome;
  try {
    // Read from the storage (the bucket may be another machine's) into memory, at most the 20 MB an
    // upload may have: no copy of the graduates' ID numbers is left on a disk if the process dies.
    outcome = { status: 'done', totalRows: await importRows(db, run, await storage.get(claimed.storedAs), opts.batchSize ?? DEFAULT_BATCH_SIZE) };
  } catch (e) {
    if (e instanceof ImportTakenOver) return;
    if (!(e instanceof FileProblem || e instanceof UnreadableSheet)) {
      if (await finish(db, run, { status: 'failed', error: '导入时发生系统错误，请重新导入' })) await storage.delete(claimed.storedAs);
      throw e;
    }
    outcome = { status: 'failed', error: (e as Error).message };
  }
  if (await finish(db, run, outcome)) await storage.delete(claimed.storedAs);
}

async function startRun(db: Db, claimed: ClaimedImport): Promise<ImportRun> {
  const [school] = await db.select({ id: schools.id, code: schools.code, name: schools.name }).from(schools).where(eq(schools.id, claimed.schoolId));
  const [uploader] = await db.select().from(users).where(eq(users.id, claimed.uploadedBy));
  // The import acts for its uploader, outside any session.
  const actor: Actor | null = uploader ? actorOf(uploader, '', false) : null;
  return {
    claimed,
    school: school!,
    source: { actor, ip: null },
    progress: { processed: claimed.processedRows, inserted: claimed.inserted, updated: claimed.updated, rejected: claimed.rejected },
  };
}

type Column = { index: number; header: string; key: FieldKey | undefined };

function readHeader(cells: string[]): Column[] {
  const columns: Column[] = [];
  const seen = new Set<FieldKey>();
  cells.forEach((text, index) => {
    const header = text.trim();
    if (!header) return;
    const key = fieldOfHeader(header);
    if (key && seen.has(key)) throw new FileProblem(`表头中“${ROSTER_FIELDS.find((f) => f.key === key)!.header}”列出现了两次`);
    if (key) seen.add(key);
    columns.push({ index, header, key });
  });
  const missing = ROSTER_FIELDS.filter((f) => f.required && !seen.has(f.key));
  if (missing.length > 0) {
    throw new FileProblem(
      `表头缺少必填列：${missing.map((f) => `${f.header}（${f.ministryCode}）`).join('、')}。请使用导入模板的中文列名或就业管理系统的列代码。`,
    );
  }
  return columns;
}

/** Reads every data row, validates it and commits in batches; returns the number of data rows. */
async function importRows(db: Db, run: ImportRun, file: Uint8Array, batchSize: number): Promise<number> {
  let columns: Column[] | undefined;
  let dataRows = 0;
  // The first row number of each ID number, for duplicates inside the file.
  const firstRowOfId = new Map<string, number>();
  const departmentIds = new Map<string, number>();
  let batch: Batch = { size: 0, valid: [], rejected: [], regionNames: {} };

  // The header is the first row with at least three known column names, on the first sheet that
  // has one within its first 20 rows: a title or notes above it, or an instructions sheet before
  // the data sheet, are passed over. Sheets after the data sheet (the template's 代码说明) are not data.
  let headerSheet = 0;
  let rowsSearched = 0;
  let searchedSheet = 0;
  let encoding: string | undefined;
  let mojibake = false;
  let firstLine = '';
  for await (const row of spreadsheetRows(file, { allSheets: true })) {
    encoding ??= row.encoding;
    if (headerSheet && row.sheet !== headerSheet) break;
    if (row.cells.every((c) => c.trim() === '')) continue;
    if (!columns) {
      if (row.sheet !== searchedSheet) {
        searchedSheet = row.sheet;
        rowsSearched = 0;
      }
      if (++rowsSearched > 20) continue;
      if (rowsSearched === 1) {
        firstLine = row.cells.filter((t) => t !== '').join(',');
        mojibake = /\uFFFD|锟斤拷|[ÃÂÐÑ×Ø]{2}/.test(firstLine);
      }
      if (row.cells.filter((t) => fieldOfHeader(t.trim()) !== undefined).length < 3) continue;
      columns = readHeader(row.cells);
      headerSheet = row.sheet;
      continue;
    }
    dataRows++;
    const input: RosterInput = {};
    const values: Record<string, string> = {};
    for (const c of columns) {
      const text = row.cells[c.index] ?? '';
      if (c.key) input[c.key] = text;
      if (text !== '') values[c.header] = text;
    }
    const idKey = (input.idNumber ?? '').trim().toUpperCase();
    const wellFormedId = /^\d{17}[\dX]$/.test(idKey);
    const firstRow = wellFormedId ? firstRowOfId.get(idKey) : undefined;
    if (wellFormedId && firstRow === undefined) firstRowOfId.set(idKey, row.number);
    // Rows committed before a takeover only feed the duplicate check.
    if (dataRows <= run.claimed.processedRows) continue;

    const result = validateRosterRecord(input, { school: run.school });
    let reasons = result.ok ? [] : describeRosterErrors(result.errors);
    const idColumn = columns.find((c) => c.key === 'idNumber');
    if (idColumn && idNumberStoredAsNumber(row.cells[idColumn.index] ?? '', row.numeric[idColumn.index] ?? false)) {
      // Not a typo to hunt for: say what Excel did and how to fix the column.
      reasons = [ID_NUMBER_STORED_AS_NUMBER, ...reasons.filter((r) => !r.startsWith('身份证号') && !r.startsWith('性别') && !r.startsWith('出生日期'))];
    }
    if (firstRow !== undefined) reasons.push(`与第${firstRow}行身份证号重复`);
    if (result.ok && reasons.length === 0) {
      batch.valid.push(result.record);
      if (result.regionFromName) batch.regionNames[result.regionFromName.name] = result.regionFromName.code;
    }
    else batch.rejected.push({ rowNumber: row.number, reasons, values: sealUploadedIdNumber(values) });
    batch.size++;
    if (batch.size >= batchSize) {
      await commitBatch(db, run, batch, departmentIds);
      batch = { size: 0, valid: [], rejected: [], regionNames: {} };
    }
  }
  if (!columns && encoding) {
    // A CSV without a header: show the first line as it was read, so garbled text is seen for what it is.
    throw new FileProblem(
      `CSV 文件中没有找到表头。按 ${encoding === 'gb18030' ? 'GBK' : 'UTF-8'} 编码读出的第一行是“${maskIdNumbersIn(firstLine).slice(0, 40)}”${mojibake ? '，是乱码' : ''}：` +
        '如果是乱码，说明文件的文字编码无法识别，请在 Excel 中“另存为” CSV UTF-8（逗号分隔）或 .xlsx 后重新导入；否则请使用导入模板的列名（如 姓名、身份证号、性别）',
    );
  }
  if (!columns) throw new FileProblem('文件中没有找到表头：各工作表的前 20 行里没有一行含有导入模板的列名（如 姓名、身份证号、性别），请使用导入模板填写');
  if (dataRows === 0) throw new FileProblem('文件中没有学生数据：表头下方没有任何数据行');
  if (batch.size > 0) await commitBatch(db, run, batch, departmentIds);
  return dataRows;
}

/** Locks the import row and tells whether this worker still owns it: nobody else advanced it meanwhile. */
async function lockOwnImport(tx: Tx, run: ImportRun): Promise<boolean> {
  const [own] = await tx
    .select({ id: rosterImports.id })
    .from(rosterImports)
    .where(and(eq(rosterImports.id, run.claimed.id), eq(rosterImports.status, 'running'), eq(rosterImports.processedRows, run.progress.processed)))
    .for('update');
  return own !== undefined;
}

// Columns a re-import refreshes. Phone and email are left alone on update: they are the graduate's own (G1).
const REFRESHED_COLUMNS = [
  'departmentId', 'examNo', 'name', 'sex', 'ethnicity', 'politicalStatus', 'birthDate', 'educationLevel',
  'majorCode', 'majorName', 'trainingMode', 'originRegion', 'studentNo', 'programYears', 'enrolledOn', 'graduatesOn',
] as const;
const INSERTED_COLUMNS = ['schoolId', 'cohort', 'idNumberSealed', 'idNumberIndex', 'idNumberMasked', 'phone', 'email', ...REFRESHED_COLUMNS] as const;
const columnName = (key: keyof typeof graduates.$inferInsert) => graduates[key].name;

// A batch travels as one JSON parameter that PostgreSQL unpacks into graduates rows: building a
// 1,000-row VALUES list through the query builder cost more time and memory than the database work.
const UPSERT_BATCH = {
  head: sql.raw(
    `insert into graduates (${INSERTED_COLUMNS.map(columnName).join(', ')}) select ${INSERTED_COLUMNS.map(columnName).join(', ')} from json_populate_recordset(null::graduates, `,
  ),
  tail: sql.raw(
    `::json) on conflict (school_id, cohort, id_number_index) do update set ${REFRESHED_COLUMNS.map((k) => `${columnName(k)} = excluded.${columnName(k)}`).join(', ')}, removed_at = null, updated_at = now() returning (xmax = 0) as inserted`,
  ),
};

type GraduateRow = Record<string, string | number | null>;

function graduateRowOf(record: NormalizedRecord, schoolId: number, cohort: number, departmentId: number): GraduateRow {
  const { departmentName: _, idNumber, ...rest } = record;
  const fields = { ...rest, ...storedIdNumber(idNumber) };
  const row: GraduateRow = { school_id: schoolId, cohort, department_id: departmentId };
  for (const [key, value] of Object.entries(fields)) row[columnName(key as keyof typeof fields)] = value;
  return row;
}

async function commitBatch(db: Db, run: ImportRun, batch: Batch, departmentIds: Map<string, number>): Promise<void> {
  const { id: schoolId } = run.school;
  const { cohort } = run.claimed;
  let inserted = 0;
  await db.transaction(async (tx) => {
    if (!(await lockOwnImport(tx, run))) throw new ImportTakenOver();
    if (batch.valid.length > 0) {
      await ensureDepartments(tx, schoolId, batch.valid.map((r) => r.departmentName), departmentIds);
      const graduateRows = batch.valid.map((r) => graduateRowOf(r, schoolId, cohort, departmentIds.get(r.departmentName)!));
      const indexes = JSON.stringify(graduateRows.map((r) => r.id_number_index));
      const before = await tx
        .select({ id: graduates.id, idNumberIndex: graduates.idNumberIndex, name: graduates.name, educationLevel: graduates.educationLevel })
        .from(graduates)
        .where(and(eq(graduates.schoolId, schoolId), eq(graduates.cohort, cohort), sql`${graduates.idNumberIndex} in (select json_array_elements_text(${indexes}::json))`))
        .for('update');
      const written = await tx.execute<{ inserted: boolean }>(sql`${UPSERT_BATCH.head}${JSON.stringify(graduateRows)}${UPSERT_BATCH.tail}`);
      inserted = written.filter((w) => w.inserted).length;
      // Matched by the blind index, so the number itself is the same; the other key fields may differ.
      const incoming = new Map(batch.valid.map((r, i) => [graduateRows[i]!.id_number_index, r]));
      for (const prior of before) {
        const next = incoming.get(prior.idNumberIndex)!;
        const fields = changedKeyFields({ ...prior, idNumber: next.idNumber }, next);
        if (fields.length > 0) await applyRosterChange(tx, run.source, { kind: 'key_fields_changed', graduateId: prior.id, schoolId, fields });
      }
    }
    if (batch.rejected.length > 0) {
      const rows = JSON.stringify(batch.rejected.map((r) => ({ row_number: r.rowNumber, reasons: r.reasons.join('；'), values: r.values })));
      await tx.execute(
        sql`insert into ${rosterImportErrors} (import_id, row_number, reasons, "values") select ${run.claimed.id}, row_number, reasons, "values" from json_to_recordset(${rows}::json) as t(row_number int, reasons text, "values" jsonb)`,
      );
    }
    await tx
      .update(rosterImports)
      .set({
        processedRows: sql`${rosterImports.processedRows} + ${batch.size}`,
        inserted: sql`${rosterImports.inserted} + ${inserted}`,
        updated: sql`${rosterImports.updated} + ${batch.valid.length - inserted}`,
        rejected: sql`${rosterImports.rejected} + ${batch.rejected.length}`,
        regionNames: sql`${rosterImports.regionNames} || ${JSON.stringify(batch.regionNames)}::jsonb`,
        heartbeatAt: sql`now()`,
      })
      .where(eq(rosterImports.id, run.claimed.id));
  });
  const p = run.progress;
  p.processed += batch.size;
  p.inserted += inserted;
  p.updated += batch.valid.length - inserted;
  p.rejected += batch.rejected.length;
}

/** The school's departments by name; a 院系 the roster names for the first time is created. */
async function ensureDepartments(tx: Tx, schoolId: number, names: string[], known: Map<string, number>): Promise<void> {
  const unknown = [...new Set(names)].filter((n) => !known.has(n));
  if (unknown.length === 0) return;
  await tx
    .insert(departments)
    .values(unknown.map((name) => ({ schoolId, name })))
    .onConflictDoNothing({ target: [departments.schoolId, departments.name] });
  const rows = await tx
    .select({ id: departments.id, name: departments.name })
    .from(departments)
    .where(and(eq(departments.schoolId, schoolId), inArray(departments.name, unknown)));
  for (const d of rows) known.set(d.name, d.id);
}

type Outcome = { status: 'done'; totalRows: number } | { status: 'failed'; error: string };

/** Ends the import with its event; false when another worker owns it by now. */
async function finish(db: Db, run: ImportRun, outcome: Outcome): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await lockOwnImport(tx, run))) return false;
    await tx
      .update(rosterImports)
      .set({
        status: outcome.status,
        totalRows: outcome.status === 'done' ? outcome.totalRows : null,
        error: outcome.status === 'failed' ? outcome.error : null,
        finishedAt: sql`now()`,
        heartbeatAt: sql`now()`,
      })
      .where(eq(rosterImports.id, run.claimed.id));
    const { processed, inserted, updated, rejected } = run.progress;
    await writeEvent(tx, run.source, {
      subjectType: 'roster_import',
      subjectId: run.claimed.id,
      schoolId: run.school.id,
      action: `roster_import.${outcome.status}`,
      fromState: 'running',
      toState: outcome.status,
      reason: outcome.status === 'failed' ? outcome.error : null,
      data: { cohort: run.claimed.cohort, processed, inserted, updated, rejected },
    });
    return true;
  });
}

const PUBLIC_COLUMNS = {
  id: rosterImports.id,
  cohort: rosterImports.cohort,
  fileName: rosterImports.fileName,
  status: rosterImports.status,
  totalRows: rosterImports.totalRows,
  processedRows: rosterImports.processedRows,
  inserted: rosterImports.inserted,
  updated: rosterImports.updated,
  rejected: rosterImports.rejected,
  error: rosterImports.error,
  uploadedBy: users.displayName,
  createdAt: rosterImports.createdAt,
  finishedAt: rosterImports.finishedAt,
  regionNames: rosterImports.regionNames,
};

export type RosterImportView = Awaited<ReturnType<typeof getRosterImport>>;

/** One import of the actor's school; another school's is not found. */
export async function getRosterImport(db: DbOrTx, actor: Actor, id: number) {
  const schoolId = importingSchoolId(actor);
  const [row] = await db
    .select(PUBLIC_COLUMNS)
    .from(rosterImports)
    .innerJoin(users, eq(users.id, rosterImports.uploadedBy))
    .where(and(eq(rosterImports.id, id), eq(rosterImports.schoolId, schoolId)));
  if (!row) throw notFound('导入记录');
  return row;
}

/** The school's latest imports, newest first. */
export async function listRosterImports(db: DbOrTx, actor: Actor, limit = 20) {
  const schoolId = importingSchoolId(actor);
  return db
    .select(PUBLIC_COLUMNS)
    .from(rosterImports)
    .innerJoin(users, eq(users.id, rosterImports.uploadedBy))
    .where(eq(rosterImports.schoolId, schoolId))
    .orderBy(desc(rosterImports.createdAt), desc(rosterImports.id))
    .limit(limit);
}

function uploadedValueOf(values: Record<string, string>, key: FieldKey): string {
  const header = Object.keys(values).find((h) => fieldOfHeader(h) === key);
  return header === undefined ? '' : values[header]!;
}

/** The first rejected rows of an import for its result page: row number, reasons, name and the masked ID number. */
export async function listRosterImportErrors(db: DbOrTx, actor: Actor, importId: number, limit = 100) {
  await getRosterImport(db, actor, importId);
  const rows = await db
    .select({ rowNumber: rosterImportErrors.rowNumber, reasons: rosterImportErrors.reasons, values: rosterImportErrors.values })
    .from(rosterImportErrors)
    .where(eq(rosterImportErrors.importId, importId))
    .orderBy(asc(rosterImportErrors.rowNumber))
    .limit(limit);
  return rows.map((r) => ({
    rowNumber: r.rowNumber,
    reasons: r.reasons,
    name: uploadedValueOf(r.values, 'name'),
    idNumber: maskIdNumber(uploadedValueOf(openUploadedIdNumber(r.values), 'idNumber')),
  }));
}

const ERRORS_PAGE = 2000;
export const REASON_HEADER = '错误原因';
export const ROW_NUMBER_HEADER = '原行号';

/**
 * The rejected rows as uploaded, each with its 错误原因, in an .xlsx the school can correct and import
 * again (the two added columns are ignored on import). Streamed page by page to stay small.
 */
export async function rosterImportErrorsWorkbook(db: DbOrTx, source: EventSource & { actor: Actor }, importId: number): Promise<Buffer> {
  const found = await getRosterImport(db, source.actor, importId);
  const schoolId = importingSchoolId(source.actor);
  // The file has the ID numbers as uploaded, in full: its download is logged like a reveal.
  await writeEvent(db, source, { subjectType: 'roster_import', subjectId: importId, schoolId, action: 'roster_import.errors_downloaded', data: { rows: found.rejected } });
  const keyRows = await db.execute<{ header: string }>(
    sql`select distinct jsonb_object_keys(${rosterImportErrors.values}) as header from ${rosterImportErrors} where ${rosterImportErrors.importId} = ${importId}`,
  );
  const position = (h: string) => {
    const key = fieldOfHeader(h);
    return key === undefined ? ROSTER_FIELDS.length : ROSTER_FIELDS.findIndex((f) => f.key === key);
  };
  const headers = keyRows.map((r) => r.header).sort((a, b) => position(a) - position(b) || a.localeCompare(b));

  const { workbook, bytes } = streamedWorkbook();
  const sheet = workbook.addWorksheet('错误数据', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = [
    ...headers.map((h) => ({ header: h, width: 16, style: { numFmt: '@' } })),
    { header: REASON_HEADER, width: 60 },
    { header: ROW_NUMBER_HEADER, width: 8 },
  ];
  let after = 0;
  for (;;) {
    const page = await db
      .select({ rowNumber: rosterImportErrors.rowNumber, reasons: rosterImportErrors.reasons, values: rosterImportErrors.values })
      .from(rosterImportErrors)
      .where(and(eq(rosterImportErrors.importId, importId), gt(rosterImportErrors.rowNumber, after)))
      .orderBy(asc(rosterImportErrors.rowNumber))
      .limit(ERRORS_PAGE);
    for (const r of page) {
      const values = openUploadedIdNumber(r.values);
      sheet.addRow([...headers.map((h) => values[h] ?? ''), r.reasons, r.rowNumber]).commit();
    }
    await compressed(sheet);
    if (page.length < ERRORS_PAGE) break;
    after = page.at(-1)!.rowNumber;
  }
  sheet.commit();
  await workbook.commit();
  return bytes;
}
