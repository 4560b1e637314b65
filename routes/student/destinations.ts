import { Hono, type Context } from 'hono';
import { CITY_GROUPS } from '../../domain/codes/regions.ts';
import {
  addDraftProofs,
  checkSubmission,
  getRegistration,
  MAX_PROOFS,
  registrationFormState,
  registrationTimeline,
  registrationView,
  removeDraftProof,
  saveDraft,
  submitRegistration,
  voidRegistration,
  withdrawRegistration,
} from '../../domain/destinations/register.ts';
import { fieldsOf, proofOf, typeLabel } from '../../domain/destinations/types.ts';
import { destinationRegistration } from '../../domain/destinations/workflow.ts';
import { getGraduate } from '../../domain/graduates/roster.ts';
import { availableActions, inGroup } from '../../domain/workflow/kernel.ts';
import { clientIp } from '../client-ip.ts';
import { uploadLimit } from '../body.ts';
import type { AppEnv } from '../context.ts';
import { BATCH_BODY_LIMIT, incomingFiles, storageOf } from '../files.ts';
import { formValues, refusalOf, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';
import { homeRecordRows } from './record.ts';

// 无需就业协议去向登记 (graduate guide 6; 定向/委培毕业去向补充登记 for training modes 21 and 41, G9):
// the type, its fields and proof, 暂存 / 提交 after a confirmation / 撤回修改 (G7); each registration's
// page with its record, the reviewers' changes (S9) and 作废 (G10).
export const destinationRoutes = new Hono<AppEnv>();

const wf = destinationRegistration;
const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });
// Too much at once: back to the form (as last kept) with the reason, not to a bare error page.
const proofsLimit = uploadLimit(BATCH_BODY_LIMIT, '一次上传的文件合计不能超过 30MB，本次填写的内容未能保存。请分次上传或压缩后再传。');

async function formPage(c: Context<AppEnv>, extra: { values?: Record<string, string>; type?: string; error?: string; fields?: Record<string, string> } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const [state, graduate] = await Promise.all([registrationFormState(db, actor, extra.type ?? c.req.query('type')), getGraduate(db, actor, actor.graduateId!)]);
  const directed = state.choices.length === 1 && state.choices[0]!.options.length === 1;
  return render(c, 'student/destinations/form', {
    title: directed ? '定向/委培毕业去向补充登记' : '无需就业协议去向登记',
    heading: directed ? '定向/委培毕业去向补充登记' : '无需就业协议去向登记',
    directed,
    choices: state.choices,
    type: state.type,
    typeLabel: state.type ? typeLabel(state.type) : null,
    typeFields: state.type ? fieldsOf(state.type) : [],
    proof: state.type ? proofOf(state.type) : null,
    proofs: state.proofs,
    maxProofs: MAX_PROOFS,
    values: extra.values ?? state.values,
    editing: state.editing && { stateLabel: wf.labels.graduate[state.editing.state], reason: state.editing.reviewReason },
    refusal: state.availability.allowed ? null : state.availability.refusal,
    current: state.standing && { id: state.standing.id, stateLabel: wf.labels.graduate[state.standing.state] },
    record: homeRecordRows(graduate),
    regions: CITY_GROUPS,
    fields: extra.fields ?? {},
    error: extra.error,
    notice: ({ saved: '已暂存。', withdrawn: '已撤回，可修改后重新提交。' } as Record<string, string>)[c.req.query('done') ?? ''],
  }, status);
}

destinationRoutes.get('/destination', (c) => formPage(c));

// One form, two buttons: 暂存, and 提交 (to the confirmation); proofs chosen come with either.
destinationRoutes.post('/destination', proofsLimit, async (c) => {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const body = await c.req.parseBody({ all: true });
  const values = formValues(body);
  const files = await incomingFiles(body, 'proofs');
  try {
    await saveDraft(db, actor, values);
    if (files.length) await addDraftProofs(db, storageOf(c), actor, files);
    // 删除 of an uploaded proof is a button of this form, so what was typed is kept first.
    if (values.remove) {
      await removeDraftProof(db, actor, values.remove);
      return c.redirect(`/student/destination?type=${encodeURIComponent(values.type!)}#proofs`, 303);
    }
  } catch (e) {
    const refusal = refusalOf(e);
    return formPage(c, { values, type: values.type, ...refusal }, refusal.status);
  }
  // 下一步 / 更换类型: the draft now has the type; its fields are asked next.
  if (values.intent !== 'submit') return c.redirect(`/student/destination?type=${encodeURIComponent(values.type!)}${values.intent === 'choose' ? '' : '&done=saved'}`, 303);
  try {
    const checked = await checkSubmission(db, actor);
    return render(c, 'student/destinations/confirm', {
      title: '确认提交：毕业去向登记',
      typeLabel: typeLabel(checked.type),
      described: checked.described,
      proofLabel: proofOf(checked.type)?.label ?? null,
      proofs: checked.proofs.length,
      resubmit: !!checked.editing,
    });
  } catch (e) {
    const refusal = refusalOf(e);
    return formPage(c, { values, type: values.type, ...refusal }, refusal.status);
  }
});

destinationRoutes.post('/destination/submission', async (c) => {
  try {
    const id = await submitRegistration(c.get('app').db, source(c));
    return c.redirect(`/student/destinations/${id}?done=submitted`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return formPage(c, refusal, refusal.status);
  }
});

async function showPage(c: Context<AppEnv>, extra: { error?: string } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const r = await getRegistration(db, actor, idParam(c));
  const [reg, actions, timeline] = await Promise.all([registrationView(db, r, 'graduate'), availableActions(db, wf, r, actor), registrationTimeline(db, r.id)]);
  return render(c, 'student/destinations/show', {
    title: reg.stateLabel,
    reg,
    timeline,
    canWithdraw: actions.withdraw?.allowed === true,
    canEdit: inGroup(wf.groups.editable, r.state),
    canVoid: actions.void?.allowed === true,
    rejected: inGroup(wf.groups.rejected, r.state),
    voided: inGroup(wf.groups.voided, r.state),
    notice: ({ submitted: '已提交，请等待学校（院系）审核。', voided: '已作废。你可以签约或登记其他去向。' } as Record<string, string>)[c.req.query('done') ?? ''],
    ...extra,
  }, status);
}

destinationRoutes.get('/destinations/:id{[0-9]+}', (c) => showPage(c));

destinationRoutes.post('/destinations/:id{[0-9]+}/withdrawal', async (c) => {
  try {
    await withdrawRegistration(c.get('app').db, source(c), idParam(c));
    return c.redirect('/student/destination?done=withdrawn', 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return showPage(c, refusal, refusal.status);
  }
});

// 作废: a confirmation first (it cannot be undone).
destinationRoutes.get('/destinations/:id{[0-9]+}/void', async (c) => {
  const r = await getRegistration(c.get('app').db, c.get('actor')!, idParam(c));
  return render(c, 'student/destinations/void', { title: '作废去向登记', id: r.id, typeLabel: typeLabel(r.type as never) });
});

destinationRoutes.post('/destinations/:id{[0-9]+}/void', async (c) => {
  try {
    await voidRegistration(c.get('app').db, source(c), idParam(c));
    return c.redirect(`/student/destinations/${idParam(c)}?done=voided`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return showPage(c, refusal, refusal.status);
  }
});
