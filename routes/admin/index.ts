import { Hono } from 'hono';
import { EMPLOYER_VERIFICATION_LABELS, EMPLOYER_VERIFICATION_STATUSES } from '../../domain/employers/verification.ts';
import { platformOverview } from '../../domain/tenancy/summaries.ts';
import type { AppEnv } from '../context.ts';
import { render } from '../render.ts';

export const adminRoutes = new Hono<AppEnv>();

adminRoutes.get('/', async (c) => {
  const o = await platformOverview(c.get('app').db, c.get('actor')!);
  const employers = EMPLOYER_VERIFICATION_STATUSES.map((s) => ({
    label: EMPLOYER_VERIFICATION_LABELS[s],
    n: o.byVerification.find((r) => r.status === s)?.n ?? 0,
  }));
  return render(c, 'admin/home', { title: '首页', ...o, employers });
});
