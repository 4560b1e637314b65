import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.ts';
import type { Storage } from '../../db/storage.ts';
import { compressed, streamedWorkbook } from '../spreadsheets/streamed-workbook.ts';
import { openedIdNumber } from '../../db/id-number-keys.ts';
import { ministryExports, schools, users } from '../../db/schema/index.ts';
import { SIGNED_AGREEMENT_STATES } from '../agreements/states.ts';
import type { Actor } from '../auth/sessions.ts';
import { regionName } from '../codes/regions.ts';
import { DESTINATIONS, EDUCATION_LEVELS, EMPLOYER_TYPES, ETHNICITIES, INDUSTRIES, POLITICAL_STATUSES, POSITION_CATEGORIES, SEXES, TRAINING_MODES, labelOf } from '../codes/tables.ts';
import { APPROVED_DESTINATION_STATES } from '../destinations/states.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import { writeEvent, type EventSource } from '../events.ts';

// 导出就业方案: the cohort, one row per graduate, in the columns of the Ministry's reporting system
// (全国高校毕业生就业管理系统, the 就业方案 / 毕业去向 upload), so an employment office uploads it
// without retyping anything.
//
// The column list and its order are not published as a standard we could cite; they come from the
// import/export code of school employment systems that exchange files with the Ministry's system:
//   - a school system's "导出上传国家的EXCEL" (header row Ksh … Bdqssj, 50 columns, with the Chinese
//     names 考生号 … 报到起始时间 beside them), and
//   - the jeeweb module `yxsjtj` entity `Student` (the same fields, 考生号 … 报到起始时间),
// both public on GitHub. They agree on every column name and meaning.
// 报到证 was abolished for graduates from 2023 (教育部办公厅 2022 年 12 月通知), so its six columns
// (Bdzqflbdm … Bdqssj) stay in place, empty, for systems that still expect them.

export const MINISTRY_FORMAT_SOURCE =
  '全国高校毕业生就业管理系统“就业方案”上报格式（列名与顺序取自公开的高校就业系统导出代码：“导出上传国家的EXCEL”及 jeeweb yxsjtj 模块的 Student 实体，二者一致）；报到证自 2023 年起取消，相关列留空。';

/** Everything a row is made of: the roster, the school, the current 毕业去向 and where the unit comes from. */
export type ExportSource = {
  examNo: string | null;
  name: string;
  idNumber: string;
  sex: string;
  ethnicity: string;
  politicalStatus: string;
  schoolCode: string;
  schoolName: string;
  department: string;
  studentNo: string;
  educationLevel: string;
  majorCode: string | null;
  majorName: string;
  trainingMode: string;
  originRegion: string;
  programYears: string;
  enrolledOn: string;
  graduatesOn: string;
  destination: string | null;
  /** The unit, from the signed agreement (its snapshot and 职位类别) or the approved registration. */
  unit: { name: string | null; uscc: string | null; employerType: string | null; industry: string | null; region: string | null; positionCategory: string | null } | null;
  /** 定向/委培单位, from the graduate's 定向/委培毕业去向补充登记. */
  directedUnit: string | null;
};

type Column = { column: string; label: string; source: string; value: (r: ExportSource) => string };

const label = (table: Parameters<typeof labelOf>[0], code: string | null | undefined) => (code ? labelOf(table, code) : '');
const unitOf = (r: ExportSource) => r.unit ?? { name: null, uscc: null, employerType: null, industry: null, region: null, positionCategory: null };

/** The mapping, once: column → label → where the value comes from. The export and its 字段说明 sheet are written from it. */
export const MINISTRY_COLUMNS: readonly Column[] = [
  { column: 'Ksh', label: '考生号', source: '学生名单：考生号', value: (r) => r.examNo ?? '' },
  { column: 'Xm', label: '姓名', source: '学生名单：姓名', value: (r) => r.name },
  { column: 'Sfzh', label: '身份证号', source: '学生名单：身份证号', value: (r) => r.idNumber },
  { column: 'Xbdm', label: '性别代码', source: '学生名单：性别（代码）', value: (r) => r.sex },
  { column: 'Xb', label: '性别', source: '性别代码表', value: (r) => label(SEXES, r.sex) },
  { column: 'Mzdm', label: '民族代码', source: '学生名单：民族（代码）', value: (r) => r.ethnicity },
  { column: 'Mz', label: '民族', source: '民族代码表', value: (r) => label(ETHNICITIES, r.ethnicity) },
  { column: 'Zzmmdm', label: '政治面貌代码', source: '学生名单：政治面貌（代码）', value: (r) => r.politicalStatus },
  { column: 'Zzmm', label: '政治面貌', source: '政治面貌代码表', value: (r) => label(POLITICAL_STATUSES, r.politicalStatus) },
  { column: 'Yxdm', label: '院校代码', source: '学校：院校代码', value: (r) => r.schoolCode },
  { column: 'Yx', label: '院校', source: '学校：名称', value: (r) => r.schoolName },
  { column: 'Szyx', label: '所在院系', source: '学生名单：院系', value: (r) => r.department },
  { column: 'Szbj', label: '所在班级', source: '本平台不采集，留空', value: () => '' },
  { column: 'Xh', label: '学号', source: '学生名单：学号', value: (r) => r.studentNo },
  { column: 'Xldm', label: '学历代码', source: '学生名单：学历层次（代码）', value: (r) => r.educationLevel },
  { column: 'Xl', label: '学历', source: '学历层次代码表', value: (r) => label(EDUCATION_LEVELS, r.educationLevel) },
  { column: 'Zydm', label: '专业代码', source: '学生名单：专业代码', value: (r) => r.majorCode ?? '' },
  { column: 'Zy', label: '专业', source: '学生名单：专业名称', value: (r) => r.majorName },
  { column: 'Zyfx', label: '专业方向', source: '本平台不采集，留空', value: () => '' },
  { column: 'Pyfsdm', label: '培养方式代码', source: '学生名单：培养方式（代码）', value: (r) => r.trainingMode },
  { column: 'Dxhwpdw', label: '定向或委培单位', source: '定向/委培毕业去向补充登记：单位名称', value: (r) => r.directedUnit ?? '' },
  { column: 'Pyfs', label: '培养方式', source: '培养方式代码表', value: (r) => label(TRAINING_MODES, r.trainingMode) },
  { column: 'Syszddm', label: '生源所在地代码', source: '学生名单：生源所在地（行政区划代码）', value: (r) => r.originRegion },
  { column: 'Syszd', label: '生源所在地', source: '行政区划代码表（GB/T 2260）', value: (r) => regionName(r.originRegion) ?? '' },
  { column: 'Xz', label: '学制', source: '学生名单：学制', value: (r) => r.programYears },
  { column: 'Rxsj', label: '入学时间', source: '学生名单：入学时间', value: (r) => r.enrolledOn },
  { column: 'Bysj', label: '毕业时间', source: '学生名单：毕业时间', value: (r) => r.graduatesOn },
  { column: 'Knslbdm', label: '困难生类别代码', source: '本平台不采集，留空', value: () => '' },
  { column: 'Knslb', label: '困难生类别', source: '本平台不采集，留空', value: () => '' },
  { column: 'Sfslbdm', label: '师范生类别代码', source: '本平台不采集，留空', value: () => '' },
  { column: 'Sfslb', label: '师范生类别', source: '本平台不采集，留空', value: () => '' },
  { column: 'Byqxdm', label: '毕业去向代码', source: '当前毕业去向（已签约协议为 10，否则审核通过的去向登记，解约后无新去向为 70；未登记留空）', value: (r) => r.destination ?? '' },
  { column: 'Byqx', label: '毕业去向', source: '毕业去向代码表', value: (r) => label(DESTINATIONS, r.destination) },
  { column: 'Dwzzjgdm', label: '单位组织机构代码', source: '已签约协议的单位统一社会信用代码，或去向登记所填', value: (r) => unitOf(r).uscc ?? '' },
  { column: 'Dwmc', label: '单位名称', source: '已签约协议的单位名称，或去向登记所填（基层项目为服务单位）', value: (r) => unitOf(r).name ?? '' },
  { column: 'Dwxzdm', label: '单位性质代码', source: '已签约协议的单位性质，或去向登记所填', value: (r) => unitOf(r).employerType ?? '' },
  { column: 'Dwxz', label: '单位性质', source: '单位性质代码表', value: (r) => label(EMPLOYER_TYPES, unitOf(r).employerType) },
  { column: 'Dwhydm', label: '单位行业代码', source: '已签约协议的单位行业，或去向登记所填', value: (r) => unitOf(r).industry ?? '' },
  { column: 'Dwhy', label: '单位行业', source: '单位行业代码表', value: (r) => label(INDUSTRIES, unitOf(r).industry) },
  { column: 'Dwszddm', label: '单位所在地代码', source: '已签约协议的单位所在地，或去向登记所填（行政区划代码）', value: (r) => unitOf(r).region ?? '' },
  { column: 'Dwszd', label: '单位所在地', source: '行政区划代码表（GB/T 2260）', value: (r) => (unitOf(r).region ? (regionName(unitOf(r).region!) ?? '') : '') },
  { column: 'Gzzwlbdm', label: '工作职位类别代码', source: '已签约协议的职位类别，或去向登记所填', value: (r) => unitOf(r).positionCategory ?? '' },
  { column: 'Gzzwlb', label: '工作职位类别', source: '工作职位类别代码表', value: (r) => label(POSITION_CATEGORIES, unitOf(r).positionCategory) },
  { column: 'Bdzqflbdm', label: '报到证签发类别代码', source: '报到证已取消，留空', value: () => '' },
  { column: 'Bdzqflb', label: '报到证签发类别', source: '报到证已取消，留空', value: () => '' },
  { column: 'Bdzqwdwmc', label: '报到证签往单位名称', source: '报到证已取消，留空', value: () => '' },
  { column: 'Qwdwszddm', label: '签往单位所在地代码', source: '报到证已取消，留空', value: () => '' },
  { column: 'Qwdwszd', label: '签往单位所在地', source: '报到证已取消，留空', value: () => '' },
  { column: 'Bdzbh', label: '报到证编号', source: '报到证已取消，留空', value: () => '' },
  { column: 'Bdqssj', label: '报到起始时间', source: '报到证已取消，留空', value: () => '' },
];

/** The 毕业去向 whose unit is reported (employment and 自主创业); 升学, 出国, 自由职业 and 暂不就业 have none. */
export const UNIT_DESTINATIONS: readonly string[] = ['10', '11', '12', '27', '46', '50', '51', '75'];

const SIGNED: readonly string[] = SIGNED_AGREEMENT_STATES;
const APPROVED: readonly string[] = APPROVED_DESTINATION_STATES;

/** The cohort's rows, in 院系 and 学号 order, a batch at a time, from one query under a cursor. */
async function* sourceRows(db: Db, schoolId: number, cohort: number, batch: number): AsyncGenerator<ExportSource[]> {
  const query = db.$client`
    select g.exam_no, g.name, g.id_number_sealed, g.sex, g.ethnicity, g.political_status, s.code as school_code, s.name as school_name, dep.name as department,
           g.student_no, g.education_level, g.major_code, g.major_name, g.training_mode, g.origin_region, g.program_years, g.enrolled_on, g.graduates_on,
           d.code as destination,
           case when d.code = any(${UNIT_DESTINATIONS as string[]}::text[]) then coalesce(
             (select jsonb_build_object('name', a.unit_snapshot->>'name', 'uscc', a.unit_snapshot->>'uscc', 'employerType', a.unit_snapshot->>'employerType',
                     'industry', a.unit_snapshot->>'industry', 'region', a.unit_snapshot->>'region', 'positionCategory', a.position_category)
                from agreements a where a.graduate_id = g.id and a.state::text = any(${SIGNED as string[]}::text[]) order by a.id desc limit 1),
             (select jsonb_build_object('name', coalesce(r.details->>'unitName', r.details->>'serviceUnit'), 'uscc', r.details->>'uscc', 'employerType', r.details->>'employerType',
                     'industry', r.details->>'industry', 'region', r.details->>'region', 'positionCategory', r.details->>'positionCategory')
                from destination_registrations r where r.graduate_id = g.id and r.state::text = any(${APPROVED as string[]}::text[]) order by r.id desc limit 1)) end as unit,
           (select r.details->>'unitName' from destination_registrations r where r.graduate_id = g.id and r.type = 'directed' and r.state::text = any(${APPROVED as string[]}::text[]) order by r.id desc limit 1) as directed_unit
      from graduates g
      join schools s on s.id = g.school_id
      join departments dep on dep.id = g.department_id
      left join graduate_destinations d on d.graduate_id = g.id and d.school_id = g.school_id
     where g.school_id = ${schoolId} and g.cohort = ${cohort} and g.removed_at is null
     order by dep.name, g.student_no, g.id`;
  for await (const rows of query.cursor(batch)) {
    yield rows.map((r) => ({
      examNo: r.exam_no,
      name: r.name,
      idNumber: openedIdNumber(r.id_number_sealed),
      sex: r.sex,
      ethnicity: r.ethnicity,
      politicalStatus: r.political_status,
      schoolCode: r.school_code,
      schoolName: r.school_name,
      department: r.department,
      studentNo: r.student_no,
      educationLevel: r.education_level,
      majorCode: r.major_code,
      majorName: r.major_name,
      trainingMode: r.training_mode,
      originRegion: r.origin_region,
      programYears: r.program_years,
      enrolledOn: r.enrolled_on,
      graduatesOn: r.graduates_on,
      destination: r.destination ?? null,
      unit: r.unit ?? null,
      directedUnit: r.directed_unit ?? null,
    }));
  }
}

export const MINISTRY_EXPORT_STATUS_LABELS = { queued: '排队中', running: '正在导出', done: '已完成', failed: '导出失败', expired: '已过期（文件已删除）' } as const;
/** The file holds every graduate's ID number: it is kept this long, then deleted. */
export const MINISTRY_EXPORT_KEEP_HOURS = 24;
/** A running export whose heartbeat is older than this is started again (its process died). */
export const MINISTRY_EXPORT_STALE_AFTER = '2 minutes';

function ownSchool(actor: Actor): number {
  // The whole cohort, ID numbers included: the school's employment office, not a department.
  if (actor.role !== 'school' || actor.schoolId === null) throw forbidden();
  return actor.schoolId;
}

export async function requestMinistryExport(db: DbOrTx, source: EventSource & { actor: Actor }, cohort: number): Promise<number> {
  const schoolId = ownSchool(source.actor);
  if (!Number.isInteger(cohort) || cohort < 2000 || cohort > 2100) throw new DomainError('invalid', '请选择届别', { cohort: '请选择届别' });
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(ministryExports).values({ schoolId, cohort, requestedBy: source.actor.userId }).returning({ id: ministryExports.id });
    await writeEvent(tx, source, { subjectType: 'ministry_export', subjectId: row!.id, schoolId, action: 'ministry_export.requested', data: { cohort } });
    return row!.id;
  });
}

/**
 * Writes the file: the cohort streamed from a cursor into exceljs' streaming writer, a batch at a
 * time, with the progress (and the heartbeat) saved after each batch; the rows are never all in
 * memory, only the compressed workbook (a few MB at 50,000 graduates), which then goes to the
 * storage, where any app process serves it. Claims the export first, so two processes never write
 * it twice.
 */
export async function processMinistryExport(db: Db, storage: Storage, id: number, opts: { batch?: number } = {}): Promise<void> {
  const [claimed] = await db
    .update(ministryExports)
    .set({ status: 'running', heartbeatAt: sql`now()`, processedRows: 0 })
    .where(and(eq(ministryExports.id, id), sql`(${ministryExports.status} = 'queued' or (${ministryExports.status} = 'running' and ${ministryExports.heartbeatAt} < now() - ${MINISTRY_EXPORT_STALE_AFTER}::interval))`))
    .returning();
  if (!claimed) return;
  let storedAs: string | undefined;
  try {
    const [{ total }] = (await db.$client`select count(*)::int as total from graduates where school_id = ${claimed.schoolId} and cohort = ${claimed.cohort} and removed_at is null`) as unknown as [{ total: number }];
    await db.update(ministryExports).set({ totalRows: total }).where(eq(ministryExports.id, id));
    const { workbook, bytes } = streamedWorkbook();
    const sheet = workbook.addWorksheet('Sheet1');
    // Every cell is text, so 考生号, 身份证号 and codes such as 01 keep their digits.
    sheet.columns = MINISTRY_COLUMNS.map((c) => ({ key: c.column, width: c.column === 'Sfzh' || c.column === 'Dwzzjgdm' ? 22 : 12, style: { numFmt: '@' } }));
    sheet.addRow(MINISTRY_COLUMNS.map((c) => c.column)).commit();
    let processed = 0;
    for await (const rows of sourceRows(db, claimed.schoolId, claimed.cohort, opts.batch ?? 2000)) {
      for (const r of rows) sheet.addRow(MINISTRY_COLUMNS.map((c) => c.value(r))).commit();
      processed += rows.length;
      // Each batch's XML compressed before the next is made: the sheet is never all in memory.
      await compressed(sheet);
      await db.update(ministryExports).set({ processedRows: processed, heartbeatAt: sql`now()` }).where(eq(ministryExports.id, id));
    }
    sheet.commit();
    const notes = workbook.addWorksheet('字段说明');
    notes.addRow(['列名', '中文名', '取值来源']).commit();
    for (const c of MINISTRY_COLUMNS) notes.addRow([c.column, c.label, c.source]).commit();
    notes.addRow([]).commit();
    notes.addRow(['格式来源', MINISTRY_FORMAT_SOURCE]).commit();
    notes.commit();
    await workbook.commit();
    const file = await bytes;
    storedAs = await storage.put(file, 'xlsx', { transient: true });
    await db.update(ministryExports).set({ status: 'done', processedRows: processed, storedAs, bytes: file.length, finishedAt: sql`now()`, heartbeatAt: sql`now()` }).where(eq(ministryExports.id, id));
  } catch (e) {
    if (storedAs) await storage.delete(storedAs).catch(() => {});
    await db.update(ministryExports).set({ status: 'failed', error: '导出失败，请重新导出；如仍失败请联系平台管理员。', finishedAt: sql`now()` }).where(eq(ministryExports.id, id));
    throw e;
  }
}

export async function getMinistryExport(db: DbOrTx, actor: Actor, id: number) {
  const schoolId = ownSchool(actor);
  const [row] = await db.select().from(ministryExports).where(and(eq(ministryExports.id, id), eq(ministryExports.schoolId, schoolId)));
  if (!row) throw notFound('导出记录');
  return row;
}

export async function listMinistryExports(db: DbOrTx, actor: Actor, limit = 10) {
  const schoolId = ownSchool(actor);
  return db
    .select({ id: ministryExports.id, cohort: ministryExports.cohort, status: ministryExports.status, totalRows: ministryExports.totalRows, processedRows: ministryExports.processedRows, createdAt: ministryExports.createdAt, by: users.displayName })
    .from(ministryExports)
    .innerJoin(users, eq(users.id, ministryExports.requestedBy))
    .where(eq(ministryExports.schoolId, schoolId))
    .orderBy(desc(ministryExports.createdAt))
    .limit(limit);
}

/** The finished file for a download, which is logged as a reveal of the cohort's personal data. */
export async function downloadMinistryExport(db: Db, storage: Storage, source: EventSource & { actor: Actor }, id: number) {
  const row = await getMinistryExport(db, source.actor, id);
  if (row.status !== 'done' || !row.storedAs) throw notFound('导出文件');
  const [school] = await db.select({ code: schools.code, name: schools.name }).from(schools).where(eq(schools.id, row.schoolId));
  const bytes = await storage.get(row.storedAs);
  await writeEvent(db, source, { subjectType: 'ministry_export', subjectId: row.id, schoolId: row.schoolId, action: 'ministry_export.downloaded', data: { cohort: row.cohort, rows: row.processedRows } });
  return { bytes, name: `${school!.code}${school!.name}-${row.cohort}届就业方案.xlsx` };
}

/** Deletes files older than the keeping time, and the files of exports that failed (the row stays as the record). */
export async function expireMinistryExports(db: DbOrTx, storage: Storage, now = new Date()): Promise<number> {
  const old = await db
    .select({ id: ministryExports.id, storedAs: ministryExports.storedAs })
    .from(ministryExports)
    .where(and(eq(ministryExports.status, 'done'), lt(ministryExports.finishedAt, new Date(now.getTime() - MINISTRY_EXPORT_KEEP_HOURS * 3600_000))));
  for (const r of old) {
    if (r.storedAs) await storage.delete(r.storedAs);
    await db.update(ministryExports).set({ status: 'expired', storedAs: null }).where(eq(ministryExports.id, r.id));
  }
  return old.length;
}
