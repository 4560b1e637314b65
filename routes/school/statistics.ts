import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { PLACEMENT_DEFINITION, PIPELINE_STAGES, percent } from '../../domain/statistics/definitions.ts';
import { schoolStatistics, statisticsCohorts, statisticsScope } from '../../domain/statistics/school.ts';
import { schoolTables } from '../../domain/statistics/tables.ts';
import { tablesWorkbook } from '../../domain/statistics/workbook.ts';
import { schoolWorkbench } from '../../domain/tenancy/summaries.ts';
import { barChart } from '../../views/charts.ts';
import type { AppEnv } from '../context.ts';
import { render } from '../render.ts';

// 数据统计 (school guide 10, S11): the school's (or a department's) figures for one cohort, with
// charts drawn on the server, and the same tables as .xlsx.
export const statisticsRoutes = new Hono<AppEnv>();

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const cohortQuery = z.object({ cohort: z.coerce.number().int().min(2000).max(2100).optional().catch(undefined) });

async function load(c: Context<AppEnv>) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  statisticsScope(actor);
  const cohorts = await statisticsCohorts(db, actor);
  const asked = cohortQuery.parse(c.req.query()).cohort;
  const cohort = asked ?? cohorts[0] ?? new Date().getFullYear();
  const [stats, bench] = await Promise.all([schoolStatistics(db, actor, cohort), schoolWorkbench(db, actor)]);
  const scopeName = bench.department ? `${bench.school.name} ${bench.department}` : bench.school.name;
  return { cohorts: cohorts.includes(cohort) ? cohorts : [cohort, ...cohorts], cohort, stats, scopeName };
}

statisticsRoutes.get('/', async (c) => {
  const { cohorts, cohort, stats, scopeName } = await load(c);
  const tables = schoolTables(stats);
  const destinationChart = barChart({
    id: 'destination-chart',
    title: `${cohort} 届毕业去向分布`,
    rows: stats.byDestination.filter((d) => d.count > 0 || d.code === '').map((d) => ({ label: d.label, value: d.count, text: `${d.count} 人 ${percent(d.count, stats.total)}` })),
  });
  const rateChart = barChart({
    id: 'rate-chart',
    title: `${cohort} 届各院系落实率`,
    max: 100,
    color: '#2e8b57',
    rows: stats.byDepartment.map((d) => ({ label: d.label, value: d.total ? Math.round((d.placed * 1000) / d.total) / 10 : 0, text: percent(d.placed, d.total) })),
  });
  return render(c, 'school/statistics/index', {
    title: '数据统计',
    cohorts,
    cohort,
    scopeName,
    stats,
    rate: percent(stats.placed, stats.total),
    definition: PLACEMENT_DEFINITION,
    stages: PIPELINE_STAGES,
    tables,
    destinationChart,
    rateChart,
  });
});

statisticsRoutes.get('/export.xlsx', async (c) => {
  const { cohort, stats, scopeName } = await load(c);
  const bytes = await tablesWorkbook(`${scopeName} ${cohort} 届数据统计`, schoolTables(stats));
  const name = `${scopeName}-${cohort}届数据统计.xlsx`;
  return c.body(new Uint8Array(bytes), 200, { 'Content-Type': XLSX, 'Content-Disposition': `attachment; filename="statistics.xlsx"; filename*=UTF-8''${encodeURIComponent(name)}` });
});
