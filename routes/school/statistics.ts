import { Hono, type Context } from 'hono';
import { formatShanghai } from '../../domain/agreements/deadline.ts';
import { statisticsScope } from '../../domain/statistics/school.ts';
import {
  downloadMinistryExport,
  getMinistryExport,
  listMinistryExports,
  MINISTRY_COLUMNS,
  MINISTRY_EXPORT_KEEP_HOURS,
  MINISTRY_EXPORT_STATUS_LABELS,
  MINISTRY_FORMAT_SOURCE,
  processMinistryExport,
  requestMinistryExport,
} from '../../domain/statistics/ministry.ts';
import { schoolWorkbench } from '../../domain/tenancy/summaries.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formProblems, formValues } from '../forms.ts';
import { idParam } from '../params.ts';
import { fragment, render } from '../render.ts';
import { schoolStatisticsPage, schoolStatisticsWorkbook } from '../statistics.ts';

// 数据统计 (school guide 10, S11): the school's figures, or a department user's own 院系; and for
// the school, 导出就业方案 in the Ministry's columns.
export const statisticsRoutes = new Hono<AppEnv>();

async function ownScope(c: Context<AppEnv>) {
  const actor = c.get('actor')!;
  const scope = statisticsScope(actor);
  const bench = await schoolWorkbench(c.get('app').db, actor);
  return {
    scope,
    scopeName: bench.department ? `${bench.school.name} ${bench.department}` : bench.school.name,
    base: '/school/statistics',
    ministryExport: actor.role === 'school',
  };
}

statisticsRoutes.get('/', async (c) => schoolStatisticsPage(c, await ownScope(c)));
statisticsRoutes.get('/export.xlsx', async (c) => schoolStatisticsWorkbook(c, await ownScope(c)));

// 导出就业方案: requested here, written in the background, progress shown as the roster import shows it.
const EXPORTS = '/school/statistics/ministry-exports';
const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });

statisticsRoutes.get('/ministry-exports', async (c) => {
  const rows = await listMinistryExports(c.get('app').db, c.get('actor')!);
  return render(c, 'statistics/ministry-exports', {
    title: '导出就业方案',
    rows: rows.map((r) => ({ ...r, statusLabel: MINISTRY_EXPORT_STATUS_LABELS[r.status], at: formatShanghai(r.createdAt) })),
    columns: MINISTRY_COLUMNS,
    formatSource: MINISTRY_FORMAT_SOURCE,
    keepHours: MINISTRY_EXPORT_KEEP_HOURS,
  });
});

statisticsRoutes.post('/ministry-exports', async (c) => {
  const { db, storage, log } = c.get('app');
  const body = formValues(await c.req.parseBody());
  try {
    const id = await requestMinistryExport(db, source(c), Number(body.cohort));
    // Runs in this process right away; the ministry-exports job restarts it if this process dies.
    void processMinistryExport(db, storage, id).catch((e: unknown) => log.error('ministry export failed', { exportId: id, error: String(e) }));
    return c.redirect(`${EXPORTS}/${id}`, 303);
  } catch (e) {
    const refusal = formProblems(e);
    return c.text(refusal.error ?? '导出失败', refusal.status);
  }
});

async function exportView(c: Context<AppEnv>) {
  const row = await getMinistryExport(c.get('app').db, c.get('actor')!, idParam(c));
  const finished = row.status !== 'queued' && row.status !== 'running';
  return { title: '导出就业方案', exported: { ...row, statusLabel: MINISTRY_EXPORT_STATUS_LABELS[row.status] }, finished, keepHours: MINISTRY_EXPORT_KEEP_HOURS };
}

statisticsRoutes.get('/ministry-exports/:id{[0-9]+}', async (c) => {
  const view = await exportView(c);
  return render(c, 'statistics/ministry-export', { ...view, refreshSeconds: view.finished ? undefined : 2 });
});
statisticsRoutes.get('/ministry-exports/:id{[0-9]+}/progress', async (c) => fragment(c, 'statistics/_ministry-progress', await exportView(c)));

statisticsRoutes.get('/ministry-exports/:id{[0-9]+}/download', async (c) => {
  const file = await downloadMinistryExport(c.get('app').db, c.get('app').storage, source(c), idParam(c));
  return new Response(new Uint8Array(file.bytes), {
    headers: {
      'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'Content-Length': String(file.bytes.length),
      'Content-Disposition': `attachment; filename="ministry.xlsx"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      'Cache-Control': 'no-store',
    },
  });
});
