import { supersedeWarning } from '../../domain/destinations/register.ts';
import { Hono, type Context } from 'hono';
import {
  abandonApplication,
  addDraftPages,
  applicationFormState,
  checkSubmission,
  MAX_PAGES,
  pickUnit,
  removeDraftPage,
  saveDraft,
  searchUnits,
  submitApplication,
  uploadStampedCopy,
  withdrawApplication,
  type ApplicationKind,
} from '../../domain/agreements/applications/apply.ts';
import { liveAssistLink, sendAssistLink } from '../../domain/agreements/offline/assist.ts';
import { formatShanghai } from '../../domain/agreements/deadline.ts';
import { agreementStateLabel, inAgreementGroup, progressSteps, workflowOfKind } from '../../domain/agreements/kinds.ts';
import { agreementTimeline, getAgreement } from '../../domain/agreements/queries.ts';
import { ARCHIVE_MODE_LABELS, ARCHIVE_MODES } from '../../domain/agreements/states.ts';
import { CITY_GROUPS, regionName } from '../../domain/codes/regions.ts';
import { EMPLOYER_TYPE_OPTIONS, EMPLOYER_TYPES, INDUSTRIES, INDUSTRY_OPTIONS, labelOf, POSITION_CATEGORY_OPTIONS } from '../../domain/codes/tables.ts';
import { DomainError } from '../../domain/errors.ts';
import { getGraduate } from '../../domain/graduates/roster.ts';
import { availableActions } from '../../domain/workflow/kernel.ts';
import { letterView } from '../agreement-view.ts';
import { clientIp } from '../client-ip.ts';
import { uploadLimit } from '../body.ts';
import type { AppEnv } from '../context.ts';
import { BATCH_BODY_LIMIT, incomingFiles, storageOf } from '../files.ts';
import { formValues, refusalOf, type PageStatus } from '../forms.ts';
import { idParam } from '../params.ts';
import { render } from '../render.ts';
import { homeRecordRows } from './record.ts';
import { filesInOrder } from '../../domain/uploads/files.ts';

// The graduate's applications (G7): 未签就业协议申请签约 and 已签就业协议登记信息 — the form kept on the
// server (暂存), 点击搜索 for a unit already on the platform, 提交 after a confirmation, and each
// application's page with its next step: 撤回修改, 修改并提交, the agreement to print, 本人回传协议书,
// 用人单位协助回传协议书.
export const applicationRoutes = new Hono<AppEnv>();

const source = (c: Context<AppEnv>) => ({ actor: c.get('actor')!, ip: clientIp(c) });
const toOptions = (opts: ReadonlyArray<{ code: string; label: string }>) => opts.map((o) => ({ value: o.code, label: o.label }));
const OPTIONS = {
  employerType: toOptions(EMPLOYER_TYPE_OPTIONS),
  industry: toOptions(INDUSTRY_OPTIONS),
  positionCategory: toOptions(POSITION_CATEGORY_OPTIONS),
  archiveMode: ARCHIVE_MODES.map((m) => ({ value: m, label: ARCHIVE_MODE_LABELS[m] })),
  regions: CITY_GROUPS,
};

/** The two forms, their paths and words (the glossary's). */
const KINDS: Record<ApplicationKind, { path: string; title: string; notice: string; pagesTitle: string }> = {
  offline: {
    path: '/student/offline-signing',
    title: '未签就业协议申请签约',
    pagesTitle: '回传的盖章协议书',
    notice: '提示：协议书生成后，需单位盖章、学校审核后才能正式生效。协议书一旦生效，无法与其他单位进行网上签约，且一次只能生成一份协议书。',
  },
  registered: {
    path: '/student/registration',
    title: '已签就业协议登记信息',
    pagesTitle: '纸质就业协议书',
    notice: '提示：请按已签订的纸质就业协议书如实填写，并上传盖章的纸质就业协议书照片或扫描件。登记信息经学校（院系）审核通过后生效；一次只能办理一份签约或登记。',
  },
};

// Pages of a stamped agreement: MAX_PAGES files, MAX_BATCH_BYTES in all.
const pagesLimit = uploadLimit(BATCH_BODY_LIMIT, '一次上传的文件合计不能超过 30MB，请分次上传或压缩后再传。');

async function formPage(c: Context<AppEnv>, kind: ApplicationKind, extra: { values?: Record<string, string>; error?: string; fields?: Record<string, string>; results?: Array<{ id: number; name: string; uscc: string }>; notice?: string } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const [state, graduate] = await Promise.all([applicationFormState(db, actor, kind), getGraduate(db, actor, actor.graduateId!)]);
  return render(c, 'student/applications/form', {
    title: KINDS[kind].title,
    kind,
    info: KINDS[kind],
    values: extra.values ?? state.values,
    pages: state.pages,
    pagesRequired: kind === 'registered',
    maxPages: MAX_PAGES,
    editing: state.editing && { id: state.editing.id, stateLabel: agreementStateLabel(state.editing.kind, 'graduate', state.editing.state), reason: state.editing.reviewReason },
    refusal: state.availability.allowed ? null : state.availability.refusal,
    record: homeRecordRows(graduate),
    options: OPTIONS,
    results: extra.results,
    fields: extra.fields ?? {},
    error: extra.error,
    notice: extra.notice ?? ({ saved: '已暂存。', withdrawn: '已撤回，可修改后重新提交。' } as Record<string, string>)[c.req.query('done') ?? ''],
  }, status);
}

for (const kind of ['offline', 'registered'] as const) {
  const { path } = KINDS[kind];
  const route = path.slice('/student'.length);

  applicationRoutes.get(route, (c) => formPage(c, kind));

  // One form, several buttons: 点击搜索, a unit picked from the results, 暂存, 提交 (to the confirmation).
  applicationRoutes.post(route, pagesLimit, async (c) => {
    const { db } = c.get('app');
    const actor = c.get('actor')!;
    const body = await c.req.parseBody({ all: true });
    const values = formValues(body);
    const files = await incomingFiles(body, 'pages');
    const intent = values.pick ? 'pick' : values.intent;
    try {
      if (intent === 'pick') {
        await pickUnit(db, actor, kind, Number(values.pick), values);
        return c.redirect(`${path}#unit`, 303);
      }
      await saveDraft(db, actor, kind, values);
      // 补登: pages chosen in the form come with whichever button was pressed, so nothing typed is lost.
      if (files.length) await addDraftPages(db, storageOf(c), actor, kind, files);
    } catch (e) {
      const refusal = refusalOf(e);
      return formPage(c, kind, { values, ...refusal }, refusal.status);
    }
    if (intent === 'search') return formPage(c, kind, { values, results: await searchUnits(db, values.unitName ?? '') });
    if (intent !== 'submit') return c.redirect(`${path}?done=saved`, 303);
    try {
      const checked = await checkSubmission(db, actor, kind);
      return render(c, 'student/applications/confirm', {
        title: `确认提交：${KINDS[kind].title}`,
        kind,
        info: KINDS[kind],
        f: { ...checked.form, employerType: labelOf(EMPLOYER_TYPES, checked.form.employerType), industry: labelOf(INDUSTRIES, checked.form.industry), region: regionName(checked.form.region) ?? checked.form.region, archiveMode: ARCHIVE_MODE_LABELS[checked.form.archiveMode] },
        pages: checked.pages.length,
        usccWarning: checked.usccCheckPassed ? null : '统一社会信用代码校验未通过，请再核对一遍；如确认无误可继续提交，学校将核实。',
        resubmit: !!checked.editing,
        destinationWarning: await supersedeWarning(db, actor.graduateId!),
      });
    } catch (e) {
      const refusal = refusalOf(e);
      return formPage(c, kind, { values, ...refusal }, refusal.status);
    }
  });

  applicationRoutes.post(`${route}/submission`, async (c) => {
    try {
      const id = await submitApplication(c.get('app').db, source(c), kind);
      return c.redirect(`/student/applications/${id}?done=submitted`, 303);
    } catch (e) {
      const refusal = refusalOf(e);
      return formPage(c, kind, refusal, refusal.status);
    }
  });
}

// 补登: a page taken off the draft before 提交 (pages are added with the form itself).
applicationRoutes.post('/registration/pages/:upload{[A-Za-z0-9_-]{22}}/removal', async (c) => {
  await removeDraftPage(c.get('app').db, c.get('actor')!, 'registered', c.req.param('upload'));
  return c.redirect('/student/registration#pages', 303);
});

// One application: where it stands and what the graduate can do next.
async function applicationPage(c: Context<AppEnv>, extra: { error?: string; fields?: Record<string, string>; notice?: string } = {}, status: PageStatus = 200) {
  const { db } = c.get('app');
  const actor = c.get('actor')!;
  const a = await getAgreement(db, actor, idParam(c));
  if (a.kind === 'online') return c.redirect(`/student/invitations/${a.id}`, 303);
  const [actions, timeline, link, pages] = await Promise.all([
    availableActions(db, workflowOfKind(a.kind), a, actor),
    agreementTimeline(db, a),
    liveAssistLink(db, actor, a.id),
    filesInOrder(db, a.copyUploadIds),
  ]);
  const unit = a.unitSnapshot;
  return render(c, 'student/applications/show', {
    title: agreementStateLabel(a.kind, 'graduate', a.state),
    a: letterView(a, agreementStateLabel(a.kind, 'graduate', a.state)),
    kindTitle: KINDS[a.kind].title,
    pagesTitle: KINDS[a.kind].pagesTitle,
    formPath: KINDS[a.kind].path,
    verb: a.verb,
    unit: { ...unit, employerType: labelOf(EMPLOYER_TYPES, unit.employerType), industry: labelOf(INDUSTRIES, unit.industry), region: regionName(unit.region) ?? unit.region },
    steps: progressSteps(a.kind, a.state, a.verb),
    timeline,
    canWithdraw: actions.withdraw?.allowed === true,
    canEdit: inAgreementGroup(a.kind, 'editable', a.state),
    canAbandon: actions.abandon?.allowed === true,
    awaitingCopy: inAgreementGroup(a.kind, 'awaitingCopy', a.state),
    documentReady: inAgreementGroup(a.kind, 'documented', a.state),
    failed: inAgreementGroup(a.kind, 'failed', a.state),
    terminationHref: inAgreementGroup(a.kind, 'signed', a.state) || inAgreementGroup(a.kind, 'terminated', a.state) ? `/student/agreements/${a.id}/termination` : null,
    terminationLabel: inAgreementGroup(a.kind, 'terminated', a.state) ? '解约详情' : '申请解约',
    maskedUnitMobile: unit.contactMobile ? `${unit.contactMobile.slice(0, 3)}****${unit.contactMobile.slice(7)}` : null,
    maxPages: MAX_PAGES,
    link: link && { ...link, sentText: formatShanghai(link.createdAt), expiresText: formatShanghai(link.expiresAt) },
    pages,
    archiveLabels: {},
    fields: {},
    notice: ({ submitted: '已提交，请等待学校（院系）审核。', copy: '已回传，请等待学校（院系）审核。', assist: '已向用人单位发送短信。' } as Record<string, string>)[c.req.query('done') ?? ''],
    ...extra,
  }, status);
}

applicationRoutes.get('/applications/:id{[0-9]+}', (c) => applicationPage(c));

applicationRoutes.post('/applications/:id{[0-9]+}/withdrawal', async (c) => {
  try {
    const a = await getAgreement(c.get('app').db, c.get('actor')!, idParam(c));
    await withdrawApplication(c.get('app').db, source(c), a.id);
    return c.redirect(`${KINDS[a.kind as ApplicationKind].path}?done=withdrawn`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return applicationPage(c, refusal, refusal.status);
  }
});

applicationRoutes.get('/applications/:id{[0-9]+}/abandonment', async (c) => {
  const a = await getAgreement(c.get('app').db, c.get('actor')!, idParam(c));
  return render(c, 'student/applications/abandon', { title: '放弃申请', a: { id: a.id, unit: a.unitSnapshot.name } });
});

applicationRoutes.post('/applications/:id{[0-9]+}/abandonment', async (c) => {
  try {
    await abandonApplication(c.get('app').db, source(c), idParam(c));
    return c.redirect('/student', 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return applicationPage(c, refusal, refusal.status);
  }
});

// 本人回传协议书: the stamped copy's pages.
applicationRoutes.post('/applications/:id{[0-9]+}/copy', pagesLimit, async (c) => {
  const files = await incomingFiles(await c.req.parseBody({ all: true }), 'pages');
  try {
    await uploadStampedCopy(c.get('app').db, storageOf(c), source(c), idParam(c), files);
    return c.redirect(`/student/applications/${idParam(c)}?done=copy`, 303);
  } catch (e) {
    const refusal = refusalOf(e);
    return applicationPage(c, refusal, refusal.status);
  }
});

// 用人单位协助回传协议书: an SMS with a link to the unit's 联系人手机.
applicationRoutes.post('/applications/:id{[0-9]+}/assist', async (c) => {
  const { config } = c.get('app');
  try {
    // The link goes out in the platform's name: its address must be the configured public one, not
    // whatever Host the request named (a demo without ORIGIN uses the address it was started for).
    const origin = config.origin ?? (config.demo ? config.linkOrigin : null);
    if (!origin) throw new DomainError('conflict', '平台尚未配置对外访问地址（ORIGIN），暂不能发送短信链接，请联系学校就业部门');
    await sendAssistLink(c.get('app').db, source(c), idParam(c), origin);
    return c.redirect(`/student/applications/${idParam(c)}?done=assist`, 303);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    const refusal = refusalOf(e);
    return applicationPage(c, refusal, refusal.status);
  }
});
