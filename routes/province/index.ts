import { Hono } from 'hono';
import { AGREEMENT_TYPE_LABELS } from '../../domain/tenancy/agreement-types.ts';
import { provinceOverview } from '../../domain/tenancy/summaries.ts';
import type { AppEnv } from '../context.ts';
import { render } from '../render.ts';

export const provinceRoutes = new Hono<AppEnv>();

provinceRoutes.get('/', async (c) => {
  const overview = await provinceOverview(c.get('app').db, c.get('actor')!);
  return render(c, 'province/home', { title: '首页', ...overview, agreementTypeLabel: AGREEMENT_TYPE_LABELS[overview.province.agreementType] });
});
