import { Hono, type Context } from 'hono';
import { EMPLOYER_TYPES, INDUSTRIES, labelOf } from '../../domain/codes/tables.ts';
import { regionName } from '../../domain/codes/regions.ts';
import { ARCHIVE_LABELS } from '../../domain/employers/unit.ts';
import { formatShanghai } from '../../domain/signing/deadline.ts';
import { agreementTimeline, getAgreement, graduateAgreements, progressSteps } from '../../domain/signing/queries.ts';
import { acceptInvitation, declineInvitation } from '../../domain/signing/respond.ts';
import { AGREEMENT_STATE_LABELS, ARCHIVE_MODE_LABELS } from '../../domain/signing/states.ts';
import { warningFor } from '../../domain/employers/warnings.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { refusalOf } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';

// 签约邀请 on the graduate's phone (G3–G5): the letter, then 接受 or 拒绝 after a confirmation.
export const invitationRoutes = new Hono<AppEnv>();

async function detail(c: Context<AppEnv>, extra: { error?: string; notice?: string } = {}, status: 200 | 403 | 404 | 409 | 422 | 429 = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const a = await getAgreement(db, actor, idParam(c));
  const { active } = await graduateAgreements(db, actor);
  const open = a.state === 'invited' && a.deadline > new Date();
  return render(c, 'student/invitations/show', {
    title: '签约邀请',
    a: { ...a, stateLabel: AGREEMENT_STATE_LABELS[a.state], deadlineText: formatShanghai(a.deadline), invitedText: formatShanghai(a.invitedAt), archiveModeLabel: ARCHIVE_MODE_LABELS[a.archiveMode] },
    unit: { ...a.unitSnapshot, employerType: labelOf(EMPLOYER_TYPES, a.unitSnapshot.employerType), industry: labelOf(INDUSTRIES, a.unitSnapshot.industry), region: regionName(a.unitSnapshot.region) ?? a.unitSnapshot.region },
    canAnswer: open && !active,
    warning: await warningFor(db, actor.schoolId, a.employerId),
    readOnly: open && !!active,
    steps: progressSteps(a.state),
    timeline: await agreementTimeline(db, actor, a.id),
    archiveLabels: ARCHIVE_LABELS,
    notice: { accepted: '你已接受签约邀请，已提交学校（院系）审核。', declined: '你已拒绝该签约邀请。' }[c.req.query('done') ?? ''],
    ...extra,
  }, status);
}

invitationRoutes.get('/invitations/:id{[0-9]+}', (c) => detail(c));

for (const [path, verb, act] of [
  ['acceptance', '接受', acceptInvitation],
  ['refusal', '拒绝', declineInvitation],
] as const) {
  invitationRoutes.get(`/invitations/:id{[0-9]+}/${path}`, async (c) => {
    const a = await getAgreement(c.get('app').db, c.get('actor')!, idParam(c));
    return render(c, 'student/invitations/confirm', { title: `确认${verb}`, a, verb, path, deadlineText: formatShanghai(a.deadline) });
  });
  invitationRoutes.post(`/invitations/:id{[0-9]+}/${path}`, async (c) => {
    try {
      const state = await act(c.get('app').db, { actor: c.get('actor')!, ip: clientIp(c) }, idParam(c));
      if (state === 'expired') return detail(c, { error: '已超过应约截止时间，该签约邀请已失效。' }, 409);
      return c.redirect(`/student/invitations/${idParam(c)}?done=${path === 'acceptance' ? 'accepted' : 'declined'}`, 303);
    } catch (e) {
      const { error, status } = refusalOf(e);
      return detail(c, { error }, status);
    }
  });
}
