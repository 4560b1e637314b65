import { Hono, type Context } from 'hono';
import { regionName } from '../../domain/codes/regions.ts';
import { DomainError, forbidden } from '../../domain/errors.ts';
import { ROSTER_IMPORT_STATUS_LABELS } from '../../domain/graduates/import-statuses.ts';
import {
  getRosterImport,
  listRosterImportErrors,
  listRosterImports,
  MAX_UPLOAD_BYTES,
  processRosterImport,
  queueRosterImport,
  rosterImportErrorsWorkbook,
} from '../../domain/graduates/roster-import.ts';
import { buildRosterTemplate } from '../../domain/graduates/roster-template.ts';
import { uploadLimit } from '../body.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { cachedCohorts } from '../school-cache.ts';
import { formProblems, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { fragment, render } from '../render.ts';

// 导入学生名单: upload, background processing with visible progress, the result and its error file.
export const rosterImportRoutes = new Hono<AppEnv>();

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const attachment = (name: string) => `attachment; filename="roster.xlsx"; filename*=UTF-8''${encodeURIComponent(name)}`;

rosterImportRoutes.use(async (c, next) => {
  if (c.get('actor')!.role !== 'school') throw forbidden();
  await next();
});

async function indexPage(c: Context<AppEnv>, problems: { error?: string; fields?: Record<string, string> } = {}, cohort?: number, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const [imports, cohorts] = await Promise.all([listRosterImports(db, actor), cachedCohorts(c)]);
  const thisYear = new Date().getFullYear();
  return render(
    c,
    'school/roster-imports/index',
    {
      title: '导入学生名单',
      imports: imports.map((i) => ({ ...i, statusLabel: ROSTER_IMPORT_STATUS_LABELS[i.status] })),
      cohort: cohort ?? cohorts[0] ?? thisYear,
      cohortChoices: [...new Set([thisYear - 1, thisYear, thisYear + 1, ...cohorts])].sort(),
      fields: {},
      ...problems,
    },
    status,
  );
}

rosterImportRoutes.get('/', (c) => indexPage(c));

rosterImportRoutes.get('/template', async (c) => {
  return c.body(new Uint8Array(await buildRosterTemplate()), 200, { 'Content-Type': XLSX, 'Content-Disposition': attachment('学生名单导入模板.xlsx') });
});

rosterImportRoutes.post(
  '/',
  uploadLimit(MAX_UPLOAD_BYTES + 64 * 1024, '导入文件不能超过 20MB。请拆分成几个文件分批导入。'),
  async (c) => {
    const { db, storage, log } = c.get('app');
    const body = await c.req.parseBody();
    const cohort = Number(body.cohort);
    try {
      const file = body.file;
      if (!(file instanceof File) || file.size === 0) throw new DomainError('invalid', '请选择要导入的文件', { file: '请选择要导入的文件' });
      const id = await queueRosterImport(db, storage, c.get('actor')!, { cohort, fileName: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
      // Runs in this process right away; the roster-imports job picks it up if this process dies.
      void processRosterImport(db, storage, id).catch((e: unknown) => log.error('roster import failed', { importId: id, error: String(e) }));
      return c.redirect(`/school/roster-imports/${id}`, 303);
    } catch (e) {
      const refusal = formProblems(e);
      return indexPage(c, refusal, Number.isInteger(cohort) ? cohort : undefined, refusal.status);
    }
  },
);

async function importView(c: Context<AppEnv>) {
  const { db } = c.get('app');
  const id = idParam(c);
  const imported = await getRosterImport(db, c.get('actor')!, id);
  const finished = imported.status === 'done' || imported.status === 'failed';
  const errors = imported.status === 'done' && imported.rejected > 0 ? await listRosterImportErrors(db, c.get('actor')!, id) : [];
  // 生源所在地 written as names: which code each became, so the school can check them.
  const regionNames = Object.entries(imported.regionNames)
    .sort(([a], [b]) => a.localeCompare(b, 'zh'))
    .map(([name, code]) => ({ name, code, full: regionName(code) ?? '' }));
  return { title: '导入结果', imported: { ...imported, statusLabel: ROSTER_IMPORT_STATUS_LABELS[imported.status] }, finished, errors, regionNames };
}

rosterImportRoutes.get('/:id{[0-9]+}', async (c) => {
  const view = await importView(c);
  // Without JavaScript the page reloads itself while the import runs; with htmx only the region polls.
  return render(c, 'school/roster-imports/show', { ...view, refreshSeconds: view.finished ? undefined : 3 });
});

// The htmx poll: only the progress region, which stops polling once the import has finished.
rosterImportRoutes.get('/:id{[0-9]+}/progress', async (c) => fragment(c, 'school/roster-imports/_progress', await importView(c)));

rosterImportRoutes.get('/:id{[0-9]+}/errors.xlsx', async (c) => {
  const id = idParam(c);
  const bytes = await rosterImportErrorsWorkbook(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, id);
  return c.body(new Uint8Array(bytes), 200, { 'Content-Type': XLSX, 'Content-Disposition': attachment(`学生名单导入错误-${id}.xlsx`) });
});
