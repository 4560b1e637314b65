import { Hono } from 'hono';
import { isSignableTrainingMode } from '../../domain/codes/tables.ts';
import { graduateHome } from '../../domain/graduates/roster.ts';
import type { AppEnv } from '../context.ts';
import { notificationRoutes } from '../notifications.ts';
import { agreementDocumentRoutes } from '../agreement-documents.ts';
import { render } from '../render.ts';
import { formatShanghai } from '../../domain/agreements/deadline.ts';
import { graduateAgreementList } from '../../domain/agreements/queries.ts';
import { applicationEntries } from '../../domain/agreements/applications/apply.ts';
import { rosterCheckRoutes } from './check.ts';
import { contactRoutes } from './contact.ts';
import { invitationRoutes } from './invitations.ts';
import { applicationRoutes } from './applications.ts';
import { studentTerminationRoutes } from '../terminations.ts';
import { serveUpload } from '../files.ts';
import { homeRecordRows } from './record.ts';
import { destinationRoutes } from './destinations.ts';
import { destinationEntry } from '../../domain/destinations/register.ts';
import { destinationLabel } from '../../domain/destinations/types.ts';
import { cachedSchoolSettings } from '../school-cache.ts';

export const studentRoutes = new Hono<AppEnv>();

// G1 gate: until the graduate has confirmed the roster record, every page leads to 学生信息; so
// does a graduate removed from the roster, who is told so there (G2).
studentRoutes.use('*', async (c, next) => {
  // The session look-up has read the gate: confirmed and still on the roster (domain/auth/sessions.ts).
  if (c.req.path === '/student/check' || c.get('signedIn')?.rosterConfirmed) return next();
  if (c.req.header('hx-request')) {
    c.header('HX-Redirect', '/student/check');
    return c.body(null, 204);
  }
  return c.redirect('/student/check', 303);
});

studentRoutes.route('/', rosterCheckRoutes);
studentRoutes.route('/', contactRoutes);
studentRoutes.route('/notifications', notificationRoutes);
studentRoutes.route('/', invitationRoutes);
studentRoutes.route('/', applicationRoutes);
studentRoutes.route('/', studentTerminationRoutes);
studentRoutes.route('/', destinationRoutes);
studentRoutes.get('/files/:file{[A-Za-z0-9_-]{22}}', serveUpload);
studentRoutes.route('/agreements', agreementDocumentRoutes);

studentRoutes.get('/', async (c) => {
  const actor = c.get('actor')!;
  const { db } = c.get('app');
  // Issue 14: the session has read the G1 gate and the unread count, the school's settings are
  // cached; the rest is one statement (graduateHome) and answers the entrances' guards (G2, G9, G4, S4).
  const [home, school] = await Promise.all([graduateHome(db, actor), cachedSchoolSettings(c)]);
  const { graduate, drafts, latest } = home;
  const { active, rows, states } = graduateAgreementList(home.agreements);
  const activeAgreementState = active?.state ?? null;
  const [entries, destination] = await Promise.all([
    applicationEntries(db, actor, { graduate, agreements: states, activeAgreementState, school, drafts }),
    destinationEntry(db, actor, { graduate, activeAgreementState, school, latest }),
  ]);
  const destinationCode = graduate.destinationCode;
  return render(c, 'student/home', {
    invitations: rows.map((r) => ({ ...r, deadlineText: r.deadline ? formatShanghai(r.deadline) : null })),
    title: '首页',
    name: graduate.name,
    recordRows: homeRecordRows(graduate),
    phone: graduate.phone,
    email: graduate.email ?? '未填写',
    signable: isSignableTrainingMode(graduate.trainingMode),
    destination,
    entries: { offline: entries.includes('offline'), registered: entries.includes('registered') },
    statusSummary: [
      { label: '签约状态', value: active?.summary ?? '未签约' },
      // The projection (domain/destinations/current.ts), as statistics and the export read it.
      { label: '毕业去向', value: destinationCode ? destinationLabel(destinationCode) : '未登记' },
    ],
  });
});
