import { Hono } from 'hono';
import { AGREEMENT_TYPE_LABELS, AGREEMENT_TYPES } from '../../domain/tenancy/agreement-types.ts';
import { setAgreementType } from '../../domain/tenancy/province-settings.ts';
import { provinceOverview } from '../../domain/tenancy/summaries.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { formProblems, formValues } from '../forms.ts';
import { notificationRoutes } from '../notifications.ts';
import { render } from '../render.ts';
import { provinceStatisticsRoutes } from './statistics.ts';

export const provinceRoutes = new Hono<AppEnv>();

provinceRoutes.route('/notifications', notificationRoutes);
provinceRoutes.route('/statistics', provinceStatisticsRoutes);

provinceRoutes.get('/', async (c) => {
  const overview = await provinceOverview(c.get('app').db, c.get('actor')!);
  return render(c, 'province/home', { title: '首页', ...overview, agreementTypeLabel: AGREEMENT_TYPE_LABELS[overview.province.agreementType] });
});

const options = AGREEMENT_TYPES.map((t) => ({ value: t, label: AGREEMENT_TYPE_LABELS[t] }));

provinceRoutes.get('/settings', async (c) => {
  const { province } = await provinceOverview(c.get('app').db, c.get('actor')!);
  return render(c, 'province/settings', { title: '协议类型设置', province, options, value: province.agreementType, fields: {}, notice: c.req.query('saved') === '1' ? '已保存，本省全部高校的电子协议书类型已更新。' : undefined });
});

provinceRoutes.post('/settings', async (c) => {
  const body = formValues(await c.req.parseBody());
  try {
    await setAgreementType(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, body);
    return c.redirect('/province/settings?saved=1', 303);
  } catch (e) {
    const { province } = await provinceOverview(c.get('app').db, c.get('actor')!);
    const refusal = formProblems(e);
    return render(c, 'province/settings', { title: '协议类型设置', province, options, value: body.agreementType, ...refusal }, refusal.status);
  }
});
