import { Hono, type Context } from 'hono';
import { PLATFORM_PAGE_SIZE as PAGE_SIZE, provinceFigures } from '../../domain/statistics/overview.ts';
import { destinationTable, figuresTable, totalsOf } from '../../domain/statistics/tables.ts';
import type { AppEnv } from '../context.ts';
import { overviewPage, overseenSchoolRoutes, statisticsQuery, tablesDownload } from '../statistics.ts';

// 数据统计 for a province (S11): its own schools' figures, and any of them opened as the school sees it.
export const provinceStatisticsRoutes = new Hono<AppEnv>();

const BASE = '/province/statistics';

async function figures(c: Context<AppEnv>) {
  const query = statisticsQuery.parse(c.req.query());
  return { query, f: await provinceFigures(c.get('app').db, c.get('actor')!, query.cohort) };
}

const schoolsTable = (f: Awaited<ReturnType<typeof provinceFigures>>, rows: typeof f.schools) => ({
  ...figuresTable('schools', '各高校', ['学校', '学校代码'], rows.map((s) => ({ ...s, label: [s.name, s.code] })), totalsOf(f.schools)),
  links: rows.map((s) => `${BASE}/schools/${encodeURIComponent(s.code)}?cohort=${f.cohort}`),
});

provinceStatisticsRoutes.get('/', async (c) => {
  const { query, f } = await figures(c);
  const pages = Math.max(1, Math.ceil(f.schools.length / PAGE_SIZE));
  const page = Math.min(query.page, pages);
  const shown = f.schools.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  return overviewPage(c, {
    base: BASE,
    scopeName: f.province.name,
    figures: f,
    schoolCount: f.schools.length,
    rateRows: shown.map((s) => ({ label: s.name, placed: s.placed, total: s.graduates })),
    rateTitle: `${f.cohort} 届各高校落实率${pages > 1 ? `（第 ${page} 页）` : ''}`,
    tables: [schoolsTable(f, shown)],
    pager: { base: BASE, query: `cohort=${f.cohort}`, page, pages },
  });
});

provinceStatisticsRoutes.get('/export.xlsx', async (c) => {
  const { f } = await figures(c);
  return tablesDownload(c, `${f.province.name} ${f.cohort} 届数据统计`, [destinationTable(f.byCode, f.graduates), schoolsTable(f, f.schools)], `${f.province.name}-${f.cohort}届数据统计.xlsx`);
});

provinceStatisticsRoutes.route('/schools', overseenSchoolRoutes(BASE, '返回本省数据统计'));
