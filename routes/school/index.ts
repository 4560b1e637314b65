import { Hono } from 'hono';
import { reviewInbox } from '../../domain/reviews/inbox.ts';
import { AGREEMENT_TYPE_LABELS, reviewVerb } from '../../domain/tenancy/agreement-types.ts';
import { schoolWorkbench } from '../../domain/tenancy/summaries.ts';
import type { AppEnv } from '../context.ts';
import { notificationRoutes } from '../notifications.ts';
import { agreementDocumentRoutes } from '../agreement-documents.ts';
import { render } from '../render.ts';
import { accountRoutes } from './accounts.ts';
import { agreementRoutes, registrationRoutes } from './agreements.ts';
import { serveUpload } from '../files.ts';
import { terminationRoutes } from './terminations.ts';
import { destinationRoutes } from './destinations.ts';
import { graduateRoutes } from './graduates.ts';
import { rosterImportRoutes } from './roster-imports.ts';
import { settingsRoutes } from './settings.ts';
import { reviewFlagRoutes } from './review-flags.ts';
import { statisticsRoutes } from './statistics.ts';
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
schoolRoutes.route('/registrations', registrationRoutes);
schoolRoutes.route('/terminations', terminationRoutes);
schoolRoutes.route('/destinations', destinationRoutes);
schoolRoutes.route('/statistics', statisticsRoutes);
schoolRoutes.route('/review-flags', reviewFlagRoutes);
schoolRoutes.get('/files/:file{[A-Za-z0-9_-]{22}}', serveUpload);

schoolRoutes.get('/', async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const bench = await schoolWorkbench(db, actor);
  const inbox = await reviewInbox(db, actor, reviewVerb(bench.school.agreementType));
  return render(c, 'school/home', { title: '工作台', ...bench, inbox, agreementTypeLabel: AGREEMENT_TYPE_LABELS[bench.school.agreementType] });
});
