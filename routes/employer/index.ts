import { Hono } from 'hono';
import { EMPLOYER_VERIFICATION_LABELS } from '../../domain/employers/verification.ts';
import { employerOfActor } from '../../domain/tenancy/summaries.ts';
import type { AppEnv } from '../context.ts';
import { render } from '../render.ts';

export const employerRoutes = new Hono<AppEnv>();

employerRoutes.get('/', async (c) => {
  const employer = await employerOfActor(c.get('app').db, c.get('actor')!);
  const status = employer?.verification ?? 'unverified';
  return render(c, 'employer/home', {
    title: '工作台',
    employer,
    verified: status === 'verified',
    statusLabel: EMPLOYER_VERIFICATION_LABELS[status],
  });
});
