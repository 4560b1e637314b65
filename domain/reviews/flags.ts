import { sql, type SQL } from 'drizzle-orm';
import { statementOnce, type DbOrTx } from '../../db/client.ts';
import { REVIEW_DECISION_ACTIONS } from '../../db/schema/events.ts';
import { ACTIVE_AGREEMENT_STATES, IN_REVIEW_AGREEMENT_STATES } from '../agreements/states.ts';
import type { Actor } from '../auth/sessions.ts';
import { NATIONWIDE_AFTER_SCHOOLS } from '../employers/warning-categories.ts';
import { forbidden } from '../errors.ts';
import type { Verb } from './chain.ts';

// 风险预警: patterns that point to fake employment, for the reviewer to look at (beyond what the
// national platform offers). Each flag says in one sentence why it is raised; none blocks anything.
// Computed at request time from the school's own rows, through indexes:
//   - a unit that many of the school's graduates signed with, and that is newly verified, marked as
//     预警单位, or has no agreement with any other school's graduate (a unit that hires nowhere else);
//   - a reviewer who approves many items within seconds of their reaching the review;
//   - a proof or agreement page that is the same file (SHA-256 of the upload) as another graduate's;
//   - an item waiting far longer than the school's reviews usually take.

export const FLAG_RULES = {
  /** This many of the school's graduates with one unit (signed, or an application under way). */
  unitGraduates: 5,
  /** Verified within this many days counts as newly verified. */
  newlyVerifiedDays: 90,
  /** Approvals this soon after the item reached the reviewer … */
  fastSeconds: 30,
  /** … this many times in the window, by one reviewer. */
  fastApprovals: 20,
  windowDays: 30,
  /** Waiting longer than this many times the school's usual (median) review time, and at least minWaitDays. */
  waitFactor: 3,
  minWaitDays: 3,
  /** Without decisions to learn from, "usual" is this many days. */
  defaultUsualDays: 2,
} as const;

export type FlagKind = 'unit' | 'reviewer' | 'proof' | 'wait';
export type Flag = { kind: FlagKind; sentence: string; href: string | null };
export const FLAG_KIND_LABELS: Record<FlagKind, string> = { unit: '单位集中签约', reviewer: '秒批', proof: '材料重复', wait: '久未处理' };

const ACTIVE: readonly string[] = ACTIVE_AGREEMENT_STATES;
const REVIEW_STATES: readonly string[] = IN_REVIEW_AGREEMENT_STATES;
const DESTINATION_REVIEW: readonly string[] = ['department_review', 'school_review'];
const DECISIONS: readonly string[] = REVIEW_DECISION_ACTIONS;
const APPROVALS = DECISIONS.filter((a) => a.endsWith('.approve'));
/** A fixed list from the code (states, actions) as literals, so the planner can match the partial indexes. */
const inList = (values: readonly string[]) => {
  if (!values.every((v) => /^[a-z_.]+$/.test(v))) throw new Error('not a code list');
  return sql.raw(values.map((v) => `'${v}'`).join(', '));
};
const days = (seconds: number) => Math.max(1, Math.round(seconds / 86400));

const agreementHref = (id: number) => `/school/agreements/${id}`;
const destinationHref = (id: number) => `/school/destinations/${id}`;

/** unitFlags' statement: every unit of the school ('all'), or the one of a review page ('unit'). */
const unitStatement = statementOnce<{ uscc: string; name: string; n: number; verified_at: string | null; own_mark: boolean; marks: number; elsewhere: boolean }, 'all' | 'unit'>((shape) => {
  const schoolId = sql.placeholder('schoolId');
  return sql`
    with u as (
      select a.unit_uscc as uscc, count(distinct a.graduate_id)::int as n, max(a.graduate_id) as graduate_id
        from agreements a
       where a.school_id = ${schoolId} and a.state in (${inList(ACTIVE)})${shape === 'unit' ? sql` and a.unit_uscc = ${sql.placeholder('uscc')}` : sql``}
       group by 1 having count(distinct a.graduate_id) >= ${FLAG_RULES.unitGraduates})
    select u.uscc, u.n, e.verified_at,
           (select a1.unit_snapshot->>'name' from agreements a1 where a1.graduate_id = u.graduate_id and a1.unit_uscc = u.uscc and a1.state in (${inList(ACTIVE)}) limit 1) as name,
           exists (select 1 from warning_marks w where w.employer_id = e.id and w.school_id = ${schoolId}) as own_mark,
           (select count(*)::int from warning_marks w where w.employer_id = e.id) as marks,
           ((select a2.school_id from agreements a2 where a2.unit_uscc = u.uscc and a2.school_id < ${schoolId} and a2.state in (${inList(ACTIVE)}) order by a2.unit_uscc, a2.school_id limit 1) is not null
            or (select a2.school_id from agreements a2 where a2.unit_uscc = u.uscc and a2.school_id > ${schoolId} and a2.state in (${inList(ACTIVE)}) order by a2.unit_uscc, a2.school_id limit 1) is not null) as elsewhere
      from u left join employers e on e.uscc = u.uscc
     order by u.n desc`;
});

/** Units many of the school's graduates signed with, that are new, marked, or hire from no other school. */
export async function unitFlags(db: DbOrTx, schoolId: number, uscc?: string): Promise<Flag[]> {
  // The count reads the partial index (school, credit code, graduate) alone. The name comes from one
  // of the counted graduates' agreements, found by graduate (the planner, asked for "any agreement of
  // this school and unit", may walk another index across every school). Whether the unit hires
  // elsewhere reads two ranges of (credit code, school) on either side of this school, so neither
  // walks through our own agreements.
  const rows = await unitStatement(db, { schoolId, uscc: uscc ?? null }, uscc ? 'unit' : 'all');
  const now = Date.now();
  const flags: Flag[] = [];
  for (const r of rows) {
    const reasons: string[] = [];
    if (r.own_mark) reasons.push('已被本校列为预警单位');
    else if (r.marks >= NATIONWIDE_AFTER_SCHOOLS) reasons.push(`已被 ${r.marks} 所高校列为预警单位`);
    if (r.verified_at && now - new Date(r.verified_at).getTime() < FLAG_RULES.newlyVerifiedDays * 86400_000) reasons.push(`认证通过仅 ${days((now - new Date(r.verified_at).getTime()) / 1000)} 天`);
    if (!r.elsewhere) reasons.push('没有与其他高校毕业生签约的记录');
    if (reasons.length === 0) continue;
    flags.push({ kind: 'unit', sentence: `本校 ${r.n} 名毕业生与“${r.name}”签约或正在办理，该单位${reasons.join('，')}。`, href: `/school/agreements?q=${encodeURIComponent(r.name)}` });
  }
  return flags;
}

const reviewerStatement = statementOnce<{ name: string; role: string; fast: number; approvals: number }>(
  () => sql`
    with d as (
      select e.actor_user_id, (count(*) filter (where e.seconds_since_previous < ${FLAG_RULES.fastSeconds}))::int as fast, count(*)::int as approvals
        from events e
       where e.school_id = ${sql.placeholder('schoolId')} and e.occurred_at > now() - make_interval(days => ${FLAG_RULES.windowDays}) and e.action in (${inList(APPROVALS)})
       group by 1
      having count(*) filter (where e.seconds_since_previous < ${FLAG_RULES.fastSeconds}) >= ${FLAG_RULES.fastApprovals})
    select u.display_name as name, u.role::text as role, d.fast, d.approvals
      from d join users u on u.id = d.actor_user_id
     order by d.fast desc`,
);

/** Reviewers who approved many items within seconds of their reaching the review. */
export async function reviewerFlags(db: DbOrTx, schoolId: number, verb: Verb): Promise<Flag[]> {
  // Each decision's event carries how long the item had waited for it, so this reads the school's
  // decisions index alone.
  const rows = await reviewerStatement(db, { schoolId });
  return rows.map((r) => ({
    kind: 'reviewer',
    sentence: `${verb}人“${r.name}”近 ${FLAG_RULES.windowDays} 天有 ${r.fast} 份（共${verb}通过 ${r.approvals} 份）在提交后 ${FLAG_RULES.fastSeconds} 秒内即${verb}通过，请确认是否逐份核对了材料。`,
    href: null,
  }));
}

type ProofRow = { subject: 'agreement' | 'destination'; id: number; name: string; other_subject: 'agreement' | 'destination'; other_id: number; other_name: string; other_school: number; other_school_name: string };

/** One subject's own rows ('agreement' or 'destination', by id) or the whole school's ('all'). */
type Only = 'all' | 'agreement' | 'destination';
const onlyOf = (shape: Only, subject: 'agreement' | 'destination', column: SQL) => (shape === 'all' ? sql`` : shape === subject ? sql` and ${column} = ${sql.placeholder('id')}` : sql` and false`);

const proofStatement = statementOnce<ProofRow, Only>(
  (shape) => sql`
    with mine as (
      select 'destination' as subject, r.id, r.graduate_id, u.id as upload_id, u.sha256
        from destination_registrations r join uploads u on u.destination_id = r.id
       where r.school_id = ${sql.placeholder('schoolId')} and r.state not in ('rejected', 'voided') and u.sha256 is not null${onlyOf(shape, 'destination', sql`r.id`)}
      union all
      select 'agreement', a.id, a.graduate_id, u.id, u.sha256
        from agreements a join uploads u on u.agreement_id = a.id
       where a.school_id = ${sql.placeholder('schoolId')} and a.state in (${inList(ACTIVE)}) and u.sha256 is not null${onlyOf(shape, 'agreement', sql`a.id`)})
    select distinct on (m.subject, m.id) m.subject, m.id, g.name,
           case when o.destination_id is not null then 'destination' else 'agreement' end as other_subject, coalesce(o.destination_id, o.agreement_id) as other_id,
           og.name as other_name, og.school_id as other_school, os.name as other_school_name
      from mine m
      join graduates g on g.id = m.graduate_id
      join uploads o on o.sha256 = m.sha256 and o.id <> m.upload_id
      left join destination_registrations orr on orr.id = o.destination_id
      left join agreements oa on oa.id = o.agreement_id
      join graduates og on og.id = coalesce(orr.graduate_id, oa.graduate_id)
      join schools os on os.id = og.school_id
     where og.id <> m.graduate_id
     order by m.subject, m.id, o.created_at`,
);

/** Proofs and agreement pages that are the same file as another graduate's. */
export async function proofFlags(db: DbOrTx, schoolId: number, only?: { subject: 'agreement' | 'destination'; id: number }): Promise<Flag[]> {
  const rows = await proofStatement(db, { schoolId, id: only?.id ?? null }, only?.subject ?? 'all');
  return rows.map((r) => {
    const what = r.subject === 'destination' ? '去向登记的证明材料' : '协议书扫描件';
    const other = r.other_school === schoolId ? `本校毕业生${r.other_name}` : `${r.other_school_name}的一名毕业生`;
    return { kind: 'proof', sentence: `${r.name}的${what}与${other}上传的文件完全相同（内容一致）。`, href: r.subject === 'destination' ? destinationHref(r.id) : agreementHref(r.id) };
  });
}

const waitStatement = statementOnce<{ subject: 'agreement' | 'destination'; id: number; name: string; waited: number }, Only>(
  (shape) => sql`
    select * from (
      select 'agreement' as subject, a.id, g.name, extract(epoch from now() - a.updated_at)::float8 as waited
        from agreements a join graduates g on g.id = a.graduate_id
       where a.school_id = ${sql.placeholder('schoolId')} and a.state in (${inList(REVIEW_STATES)}) and a.updated_at < now() - make_interval(days => ${FLAG_RULES.minWaitDays})${onlyOf(shape, 'agreement', sql`a.id`)}
      union all
      select 'destination', r.id, g.name, extract(epoch from now() - r.updated_at)::float8
        from destination_registrations r join graduates g on g.id = r.graduate_id
       where r.school_id = ${sql.placeholder('schoolId')} and r.state in (${inList(DESTINATION_REVIEW)}) and r.updated_at < now() - make_interval(days => ${FLAG_RULES.minWaitDays})${onlyOf(shape, 'destination', sql`r.id`)}) w
     order by waited desc limit 1000`,
);

const usualStatement = statementOnce<{ median: number | null }>(
  () => sql`
    select percentile_cont(0.5) within group (order by e.seconds_since_previous)::float8 as median
      from events e
     where e.school_id = ${sql.placeholder('schoolId')} and e.occurred_at > now() - make_interval(days => 90) and e.action in (${inList(DECISIONS)}) and e.seconds_since_previous is not null`,
);

/** Items waiting far longer than this school's reviews usually take. */
export async function waitFlags(db: DbOrTx, schoolId: number, verb: Verb, only?: { subject: 'agreement' | 'destination'; id: number }): Promise<Flag[]> {
  // Items past the minimum first (usually none, and on a review page one row at most); the school's
  // usual review time is only worked out when there is something to compare with it.
  const rows = await waitStatement(db, { schoolId, id: only?.id ?? null }, only?.subject ?? 'all');
  if (rows.length === 0) return [];
  const [usual] = await usualStatement(db, { schoolId });
  const usualSeconds = usual?.median ?? FLAG_RULES.defaultUsualDays * 86400;
  const threshold = Math.max(FLAG_RULES.minWaitDays * 86400, FLAG_RULES.waitFactor * usualSeconds);
  const usualText = usualSeconds < 86400 ? `${Math.max(1, Math.round(usualSeconds / 3600))} 小时` : `${days(usualSeconds)} 天`;
  return rows
    .filter((r) => r.waited > threshold)
    .slice(0, 200)
    .map((r) => ({
      kind: 'wait',
      sentence: r.subject === 'destination' ? `${r.name}的去向登记已等待审核 ${days(r.waited)} 天，本校的审核通常 ${usualText} 内完成。` : `${r.name}的签约已等待${verb} ${days(r.waited)} 天，本校的${verb}通常 ${usualText} 内完成。`,
      href: r.subject === 'destination' ? destinationHref(r.id) : agreementHref(r.id),
    }));
}

/** The school's 风险预警 list: every flag, by kind. */
export async function schoolFlags(db: DbOrTx, actor: Actor, verb: Verb): Promise<Record<FlagKind, Flag[]>> {
  if (actor.role !== 'school' || actor.schoolId === null) throw forbidden();
  const [unit, reviewer, proof, wait] = await Promise.all([unitFlags(db, actor.schoolId), reviewerFlags(db, actor.schoolId, verb), proofFlags(db, actor.schoolId), waitFlags(db, actor.schoolId, verb)]);
  return { unit, reviewer, proof, wait };
}

/** The flags of one agreement, for its review page (the caller has already checked the reviewer may see it). */
export async function agreementFlags(db: DbOrTx, a: { id: number; schoolId: number; unitSnapshot: { uscc: string } }, verb: Verb): Promise<Flag[]> {
  const [unit, proof, wait] = await Promise.all([unitFlags(db, a.schoolId, a.unitSnapshot.uscc), proofFlags(db, a.schoolId, { subject: 'agreement', id: a.id }), waitFlags(db, a.schoolId, verb, { subject: 'agreement', id: a.id })]);
  return [...unit, ...proof, ...wait].map((f) => ({ ...f, href: f.kind === 'unit' ? f.href : null }));
}

/** The flags of one destination registration, for its review page. */
export async function registrationFlags(db: DbOrTx, r: { id: number; schoolId: number; details: { uscc?: string | null } }): Promise<Flag[]> {
  const [unit, proof, wait] = await Promise.all([
    r.details.uscc ? unitFlags(db, r.schoolId, r.details.uscc) : Promise.resolve([]),
    proofFlags(db, r.schoolId, { subject: 'destination', id: r.id }),
    waitFlags(db, r.schoolId, '审核', { subject: 'destination', id: r.id }),
  ]);
  return [...unit, ...proof, ...wait].map((f) => ({ ...f, href: f.kind === 'unit' ? f.href : null }));
}
