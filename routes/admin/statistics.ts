import { Hono, type Context } from 'hono';
import { platformFigures } from '../../domain/statistics/overview.ts';
import { destinationTable, figuresTable, totalsOf, type StatTable } from '../../domain/statistics/tables.ts';
import type { AppEnv } from '../context.ts';
import { overviewPage, overseenSchoolRoutes, statisticsQuery, tablesDownload } from '../statistics.ts';

// 数据统计 for platform staff: every province's totals, every school's figures, any school opened.
export const adminStatisticsRoutes = new Hono<AppEnv>();

const BASE = '/admin/statistics';
type Platform = Awaited<ReturnType<typeof platformFigures>>;

async function figures(c: Context<AppEnv>) {
  const query = statisticsQuery.parse(c.req.query());
  return platformFigures(c.get('app').db, c.get('actor')!, query);
}

function provincesTable(f: Platform): StatTable {
  const rows = f.provinces.filter((p) => p.schools > 0);
  return {
    ...figuresTable('provinces', '各省份', ['省份', '高校数'], rows.map((p) => ({ ...p, label: [p.name, String(p.schools)] })), totalsOf(rows)),
    links: rows.map((p) => `${BASE}?cohort=${f.cohort}&province=${p.id}#schools-title`),
  };
}

const schoolsTable = (f: Platform, rows: Platform['schools']): StatTable => ({
  ...figuresTable('schools', f.province ? `${f.province.name}各高校` : '各高校', ['学校', '学校代码', '省份'], rows.map((s) => ({ ...s, label: [s.name, s.code, s.province] })), totalsOf(f.allSchools)),
  links: rows.map((s) => `${BASE}/schools/${encodeURIComponent(s.code)}?cohort=${f.cohort}`),
});

adminStatisticsRoutes.get('/', async (c) => {
  const f = await figures(c);
  const query = `cohort=${f.cohort}${f.province ? `&province=${f.province.id}` : ''}`;
  return overviewPage(c, {
    base: BASE,
    scopeName: '全国',
    figures: f,
    schoolCount: f.allSchools.length,
    rateRows: f.provinces.filter((p) => p.schools > 0).map((p) => ({ label: p.name, placed: p.placed, total: p.graduates })),
    rateTitle: `${f.cohort} 届各省份落实率`,
    tables: [provincesTable(f), schoolsTable(f, f.schools)],
    provinceFilter: { options: f.provinces.filter((p) => p.schools > 0), selected: f.province?.id ?? null },
    pager: { base: BASE, query, page: f.page, pages: f.pages },
    exportQuery: query,
  });
});

adminStatisticsRoutes.get('/export.xlsx', async (c) => {
  const f = await figures(c);
  return tablesDownload(c, `全国 ${f.cohort} 届数据统计`, [destinationTable(f.byCode, f.graduates), provincesTable(f), schoolsTable(f, f.allSchools)], `全国-${f.cohort}届数据统计.xlsx`);
});

adminStatisticsRoutes.route('/schools', overseenSchoolRoutes(BASE, '返回全国数据统计'));
