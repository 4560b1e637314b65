import { Hono, type Context } from 'hono';
import { statisticsScope } from '../../domain/statistics/school.ts';
import { schoolWorkbench } from '../../domain/tenancy/summaries.ts';
import type { AppEnv } from '../context.ts';
import { schoolStatisticsPage, schoolStatisticsWorkbook } from '../statistics.ts';

// 数据统计 (school guide 10, S11): the school's figures, or a department user's own 院系.
export const statisticsRoutes = new Hono<AppEnv>();

async function ownScope(c: Context<AppEnv>) {
  const actor = c.get('actor')!;
  const scope = statisticsScope(actor);
  const bench = await schoolWorkbench(c.get('app').db, actor);
  return { scope, scopeName: bench.department ? `${bench.school.name} ${bench.department}` : bench.school.name, base: '/school/statistics' };
}

statisticsRoutes.get('/', async (c) => schoolStatisticsPage(c, await ownScope(c)));
statisticsRoutes.get('/export.xlsx', async (c) => schoolStatisticsWorkbook(c, await ownScope(c)));
