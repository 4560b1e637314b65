import { supersedeWarning } from '../../domain/destinations/register.ts';
import { Hono, type Context } from 'hono';
import { formatShanghai } from '../../domain/agreements/deadline.ts';
import { agreementStateLabel, inAgreementGroup, progressSteps, workflowOfKind } from '../../domain/agreements/kinds.ts';
import { acceptInvitation, declineInvitation } from '../../domain/agreements/online/respond.ts';
import { agreementTimeline, getAgreement } from '../../domain/agreements/queries.ts';
import { EMPLOYER_TYPES, INDUSTRIES, labelOf } from '../../domain/codes/tables.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { ARCHIVE_LABELS } from '../../domain/employers/unit.ts';
import { warningFor } from '../../domain/employers/warnings.ts';
import { availableActions, leadsTo } from '../../domain/workflow/kernel.ts';
import { onlineSigning, PAST_DEADLINE } from '../../domain/agreements/online/workflow.ts';
import { DomainError } from '../../domain/errors.ts';
import { letterView } from '../agreement-view.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { refusalOf, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// 签约邀请 on the graduate's phone (G3–G5): the letter, then 接受 or 拒绝 after a confirmation.
// Whether the graduate may answer now, and why not, is the table's (deadline, S4, G4).
export const invitationRoutes = new Hono<AppEnv>();

async function detail(c: Context<AppEnv>, extra: { error?: string; notice?: string } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const a = await getAgreement(db, actor, idParam(c));
  const [actions, timeline, warning] = await Promise.all([
    availableActions(db, workflowOfKind(a.kind), a, actor),
    agreementTimeline(db, a),
    a.employerId === null ? null : warningFor(db, actor.schoolId, a.employerId),
  ]);
  // 接受 and 拒绝 each as the table allows now; the first refusal says why (S4 governs accepting only).
  const refusal = [actions.accept, actions.decline].find((a) => a && !a.allowed);
  return render(c, 'student/invitations/show', {
    title: '签约邀请',
    a: letterView(a, agreementStateLabel(a.kind, 'graduate', a.state)),
    verb: a.verb,
    unit: { ...a.unitSnapshot, employerType: labelOf(EMPLOYER_TYPES, a.unitSnapshot.employerType), industry: labelOf(INDUSTRIES, a.unitSnapshot.industry), region: regionName(a.unitSnapshot.region) ?? a.unitSnapshot.region },
    canAccept: actions.accept?.allowed === true,
    canDecline: actions.decline?.allowed === true,
    refusal: refusal && !refusal.allowed ? refusal.refusal : null,
    documentReady: inAgreementGroup(a.kind, 'documented', a.state),
    // 申请解约 from a signed agreement; the page also follows a termination under way or done.
    terminationHref: inAgreementGroup(a.kind, 'signed', a.state) || inAgreementGroup(a.kind, 'terminated', a.state) ? `/student/agreements/${a.id}/termination` : null,
    terminationLabel: inAgreementGroup(a.kind, 'terminated', a.state) ? '解约详情' : '申请解约',
    warning,
    steps: progressSteps(a.kind, a.state, a.verb),
    timeline,
    archiveLabels: ARCHIVE_LABELS,
    notice: { accepted: `你已接受签约邀请，已提交学校（院系）${a.verb}。`, declined: '你已拒绝该签约邀请。' }[c.req.query('done') ?? ''],
    ...extra,
  }, status);
}

invitationRoutes.get('/invitations/:id{[0-9]+}', (c) => detail(c));

for (const [path, verb, act, event, done] of [
  ['acceptance', '接受', acceptInvitation, 'accept', 'accepted'],
  ['refusal', '拒绝', declineInvitation, 'decline', 'declined'],
] as const) {
  invitationRoutes.get(`/invitations/:id{[0-9]+}/${path}`, async (c) => {
    const a = await getAgreement(c.get('app').db, c.get('actor')!, idParam(c));
    const destinationWarning = path === 'acceptance' ? await supersedeWarning(c.get('app').db, a.graduateId) : null;
    return render(c, 'student/invitations/confirm', { title: `确认${verb}`, a, verb, reviewVerb: a.verb, path, deadlineText: a.deadline ? formatShanghai(a.deadline) : '', destinationWarning });
  });
  invitationRoutes.post(`/invitations/:id{[0-9]+}/${path}`, async (c) => {
    try {
      const state = await act(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, idParam(c));
      // X3: past the deadline the answer expired the invitation instead.
      if (!leadsTo(onlineSigning, event, state)) {
        const { error, status } = refusalOf(new DomainError('illegal_transition', `${PAST_DEADLINE}。`));
        return detail(c, { error }, status);
      }
      return c.redirect(`/student/invitations/${idParam(c)}?done=${done}`, 303);
    } catch (e) {
      const { error, status } = refusalOf(e);
      return detail(c, { error }, status);
    }
  });
}
