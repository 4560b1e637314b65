import { Hono, type Context } from 'hono';
import { agreementStateLabel } from '../domain/agreements/kinds.ts';
import { agreementIdOfTermination, answerTermination, applyForTermination, proposeTermination, resubmitTermination, terminationOf } from '../domain/terminations/terminate.ts';
import { employerAgreementPage } from './employer/signing.ts';
import { termination } from '../domain/terminations/workflow.ts';
import { inGroup } from '../domain/workflow/kernel.ts';
import { TERMINATION_INITIATOR_LABELS } from '../domain/terminations/states.ts';
import type { IncomingFile } from '../domain/uploads/store-upload.ts';
import { clientIp } from './client-ip.ts';
import { uploadLimit } from './body.ts';
import type { AppEnv } from './context.ts';
import { BATCH_BODY_LIMIT, incomingFiles, storageOf } from './files.ts';
import { formValues, refusalOf, type PageStatus } from './forms.ts';
import { idParam } from './params.ts';
import { render } from './render.ts';

// 解约 as a party meets it: the graduate's page for an agreement (申请解约, the answer to a unit's
// request, the resubmission after 退回修改), and the unit's 发起解约 and answer on its agreement page.
const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });
const filesLimit = uploadLimit(BATCH_BODY_LIMIT, '上传的文件合计不能超过 30MB。请压缩后重新提交。');

async function filesOf(c: Context<AppEnv>): Promise<{ values: Record<string, string>; files: IncomingFile[] }> {
  const body = await c.req.parseBody({ all: true });
  return { values: formValues(body), files: await incomingFiles(body, 'files') };
}

/** What a party's page shows of the agreement's termination. */
export async function terminationView(c: Context<AppEnv>, agreementId: number, audience: 'graduate' | 'employer') {
  const found = await terminationOf(c.get('app').db, c.get('actor')!, agreementId);
  const t = found.latest;
  return {
    ...found,
    latest: t && {
      ...t,
      stateLabel: termination.labels[audience][t.state],
      initiatorLabel: TERMINATION_INITIATOR_LABELS[t.initiator],
      canAnswer: found.actions.agree?.allowed === true,
      canResubmit: found.actions.resubmit?.allowed === true,
      ended: inGroup(termination.groups.terminated, t.state),
    },
    agreementStateLabel: agreementStateLabel(found.agreement.kind, audience, found.agreement.state),
  };
}

// The graduate: /student/agreements/:id/termination and /student/terminations/:id/…
export const studentTerminationRoutes = new Hono<AppEnv>();

async function graduatePage(c: Context<AppEnv>, agreementId: number, extra: { error?: string; fields?: Record<string, string>; values?: Record<string, string> } = {}, status: PageStatus = 200) {
  const view = await terminationView(c, agreementId, 'graduate');
  return render(c, 'student/termination', {
    title: '申请解约',
    ...view,
    backHref: view.agreement.kind === 'online' ? `/student/invitations/${agreementId}` : `/student/applications/${agreementId}`,
    fields: {},
    values: {},
    notice: ({ applied: '解约申请已提交。', answered: '已答复。', resubmitted: '已重新提交。' } as Record<string, string>)[c.req.query('done') ?? ''],
    ...extra,
  }, status);
}

studentTerminationRoutes.get('/agreements/:id{[0-9]+}/termination', (c) => graduatePage(c, idParam(c)));

studentTerminationRoutes.post('/agreements/:id{[0-9]+}/termination', filesLimit, async (c) => {
  const { values, files } = await filesOf(c);
  try {
    await applyForTermination(c.get('app').db, storageOf(c), source(c), idParam(c), values, files);
    return c.redirect(`/student/agreements/${idParam(c)}/termination?done=applied`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return graduatePage(c, idParam(c), { ...refusal, values }, refusal.status);
  }
});

/** The agreement a termination belongs to, for the page to return to. */
const agreementOfTermination = (c: Context<AppEnv>) => agreementIdOfTermination(c.get('app').db, c.get('actor')!, idParam(c));

studentTerminationRoutes.post('/terminations/:id{[0-9]+}/answer', async (c) => {
  const agreementId = await agreementOfTermination(c);
  const values = formValues(await c.req.parseBody());
  try {
    await answerTermination(c.get('app').db, source(c), idParam(c), values);
    return c.redirect(`/student/agreements/${agreementId}/termination?done=answered`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return graduatePage(c, agreementId, { ...refusal, values }, refusal.status);
  }
});

studentTerminationRoutes.post('/terminations/:id{[0-9]+}/resubmission', filesLimit, async (c) => {
  const agreementId = await agreementOfTermination(c);
  const { values, files } = await filesOf(c);
  try {
    await resubmitTermination(c.get('app').db, storageOf(c), source(c), idParam(c), values, files);
    return c.redirect(`/student/agreements/${agreementId}/termination?done=resubmitted`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return graduatePage(c, agreementId, { ...refusal, values }, refusal.status);
  }
});

// The unit: 发起解约 on its agreement, and its answer to the graduate's request.
export const employerTerminationRoutes = new Hono<AppEnv>();

employerTerminationRoutes.post('/agreements/:id{[0-9]+}/termination', async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    await proposeTermination(c.get('app').db, source(c), idParam(c), values);
    return c.redirect(`/employer/agreements/${idParam(c)}?done=proposed`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return employerAgreementPage(c, idParam(c), { ...refusal, values }, refusal.status);
  }
});

employerTerminationRoutes.post('/terminations/:id{[0-9]+}/answer', async (c) => {
  const agreementId = await agreementOfTermination(c);
  const values = formValues(await c.req.parseBody());
  try {
    await answerTermination(c.get('app').db, source(c), idParam(c), values);
    return c.redirect(`/employer/agreements/${agreementId}?done=answered`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return employerAgreementPage(c, agreementId, { ...refusal, values }, refusal.status);
  }
});
