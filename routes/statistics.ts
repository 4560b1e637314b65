import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { apart, type DbOrTx } from '../db/client.ts';
import { PIPELINE_STAGES, PLACEMENT_DEFINITION, percent } from '../domain/statistics/definitions.ts';
import { schoolStatistics, statisticsCohorts, type Scope } from '../domain/statistics/school.ts';
import { destinationTable, schoolTables, type StatTable } from '../domain/statistics/tables.ts';
import { FIGURES_EVERY_MINUTES, overseenSchool } from '../domain/statistics/overview.ts';
import { formatShanghai } from '../domain/agreements/deadline.ts';
import { tablesWorkbook } from '../domain/statistics/workbook.ts';
import { barChart, type BarRow } from '../views/charts.ts';
import type { AppEnv } from './context.ts';
import { render } from './render.ts';

// What every 数据统计 page shares: the cohort query, one school's page and its .xlsx, charts.

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const statisticsQuery = z.object({
  cohort: z.coerce.number().int().min(2000).max(2100).optional().catch(undefined),
  province: z.coerce.number().int().positive().optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
});

export function xlsxResponse(c: Context<AppEnv>, bytes: Buffer, name: string): Response {
  return c.body(new Uint8Array(bytes), 200, { 'Content-Type': XLSX, 'Content-Disposition': `attachment; filename="statistics.xlsx"; filename*=UTF-8''${encodeURIComponent(name)}` });
}

export const destinationChart = (id: string, title: string, byCode: ReadonlyArray<{ code: string; label: string; count: number }>, total: number) =>
  barChart({ id, title, rows: byCode.filter((d) => d.count > 0 || d.code === '').map((d) => ({ label: d.label, value: d.count, text: `${d.count} 人 ${percent(d.count, total)}` })) });

export const rateChart = (id: string, title: string, rows: ReadonlyArray<{ label: string; placed: number; total: number }>) =>
  barChart({ id, title, max: 100, color: '#2e8b57', rows: rows.map((d): BarRow => ({ label: d.label, value: d.total ? Math.round((d.placed * 1000) / d.total) / 10 : 0, text: percent(d.placed, d.total) })) });

type SchoolPage = { scope: Scope; scopeName: string; base: string; heading?: string; back?: { href: string; label: string }; ministryExport?: boolean };

async function loadSchool(c: Context<AppEnv>, db: DbOrTx, page: SchoolPage) {
  const cohorts = await statisticsCohorts(db, page.scope);
  const cohort = statisticsQuery.parse(c.req.query()).cohort ?? cohorts[0] ?? new Date().getFullYear();
  const stats = await schoolStatistics(db, page.scope, cohort);
  return { cohorts: cohorts.includes(cohort) ? cohorts : [cohort, ...cohorts], cohort, stats };
}

/** One school's (or department's) 数据统计 page, for its own users or for those who oversee it. */
export async function schoolStatisticsPage(c: Context<AppEnv>, page: SchoolPage) {
  const { cohorts, cohort, stats } = await loadSchool(c, apart(c.get('app').db), page);
  return render(c, 'statistics/school', {
    title: '数据统计',
    ...page,
    cohorts,
    cohort,
    stats,
    rate: percent(stats.placed, stats.total),
    definition: PLACEMENT_DEFINITION,
    stages: PIPELINE_STAGES,
    tables: schoolTables(stats),
    destinationChart: destinationChart('destination-chart', `${cohort} 届毕业去向分布`, stats.byDestination, stats.total),
    rateChart: rateChart('rate-chart', `${cohort} 届各院系落实率`, stats.byDepartment.map((d) => ({ label: d.label, placed: d.placed, total: d.total }))),
  });
}

export async function schoolStatisticsWorkbook(c: Context<AppEnv>, page: SchoolPage) {
  const { cohort, stats } = await loadSchool(c, apart(c.get('app').db), page);
  return xlsxResponse(c, await tablesWorkbook(`${page.scopeName} ${cohort} 届数据统计`, schoolTables(stats)), `${page.scopeName}-${cohort}届数据统计.xlsx`);
}

export async function tablesDownload(c: Context<AppEnv>, caption: string, tables: StatTable[], name: string) {
  return xlsxResponse(c, await tablesWorkbook(caption, tables), name);
}

type Overview = {
  base: string;
  scopeName: string;
  figures: { cohort: number; cohorts: number[]; refreshedAt: Date | null; graduates: number; placed: number; byCode: Array<{ code: string; label: string; count: number }> };
  schoolCount: number;
  rateRows: Array<{ label: string; placed: number; total: number }>;
  rateTitle: string;
  tables: StatTable[];
  pager: { base: string; query: string; page: number; pages: number };
  provinceFilter?: { options: Array<{ id: number; name: string }>; selected: number | null };
  exportQuery?: string;
};

/** A province's or the platform's page: totals, the two charts, per-school (and per-province) tables. */
export function overviewPage(c: Context<AppEnv>, o: Overview) {
  const f = o.figures;
  return render(c, 'statistics/overview', {
    title: '数据统计',
    ...o,
    cohorts: f.cohorts,
    cohort: f.cohort,
    freshness: f.refreshedAt ? `统计时间 ${formatShanghai(f.refreshedAt)}，每 ${FIGURES_EVERY_MINUTES} 分钟更新` : `尚未生成统计，统计任务每 ${FIGURES_EVERY_MINUTES} 分钟运行一次`,
    rate: percent(f.placed, f.graduates),
    definition: PLACEMENT_DEFINITION,
    stages: PIPELINE_STAGES,
    destinationTable: destinationTable(f.byCode, f.graduates),
    destinationChart: destinationChart('destination-chart', `${f.cohort} 届毕业去向分布`, f.byCode, f.graduates),
    rateChart: rateChart('rate-chart', o.rateTitle, o.rateRows),
    exportQuery: o.exportQuery ?? `cohort=${f.cohort}`,
  });
}

/** `/schools/:code` and its .xlsx under an overview (`base`): one school as its own users see it, for those who oversee it. */
export function overseenSchoolRoutes(base: string, backLabel: string) {
  const routes = new Hono<AppEnv>();
  const page = async (c: Context<AppEnv>): Promise<SchoolPage> => {
    const school = await overseenSchool(c.get('app').db, c.get('actor')!, c.req.param('code') ?? '');
    const cohort = statisticsQuery.parse(c.req.query()).cohort;
    return {
      scope: school,
      scopeName: school.name,
      heading: school.name,
      base: `${base}/schools/${encodeURIComponent(school.code)}`,
      back: { href: `${base}${cohort ? `?cohort=${cohort}` : ''}`, label: backLabel },
    };
  };
  routes.get('/:code{[0-9A-Za-z]{1,20}}', async (c) => schoolStatisticsPage(c, await page(c)));
  routes.get('/:code{[0-9A-Za-z]{1,20}}/export.xlsx', async (c) => schoolStatisticsWorkbook(c, await page(c)));
  return routes;
}
