import { Hono } from 'hono';
import { AGREEMENT_TYPE_LABELS } from '../../domain/tenancy/agreement-types.ts';
import { schoolWorkbench } from '../../domain/tenancy/summaries.ts';
import type { AppEnv } from '../context.ts';
import { notificationRoutes } from '../notifications.ts';
import { agreementDocumentRoutes } from '../agreement-documents.ts';
import { render } from '../render.ts';
import { accountRoutes } from './accounts.ts';
import { agreementRoutes } from './agreements.ts';
import { graduateRoutes } from './graduates.ts';
import { rosterImportRoutes } from './roster-imports.ts';
import { settingsRoutes } from './settings.ts';
import { warningRoutes } from './warnings.ts';

export const schoolRoutes = new Hono<AppEnv>();

schoolRoutes.route('/settings', settingsRoutes);
schoolRoutes.route('/accounts', accountRoutes);
schoolRoutes.route('/graduates', graduateRoutes);
schoolRoutes.route('/roster-imports', rosterImportRoutes);
schoolRoutes.route('/notifications', notificationRoutes);
schoolRoutes.route('/warnings', warningRoutes);
schoolRoutes.route('/agreements', agreementRoutes);
schoolRoutes.route('/agreements', agreementDocumentRoutes);

schoolRoutes.get('/', async (c) => {
  const bench = await schoolWorkbench(c.get('app').db, c.get('actor')!);
  return render(c, 'school/home', { title: '工作台', ...bench, agreementTypeLabel: AGREEMENT_TYPE_LABELS[bench.school.agreementType] });
});
