import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { employerVerificationEnum } from '../../db/schema/employers.ts';
import { agreementTypeEnum, reviewModeEnum } from '../../db/schema/tenancy.ts';
import { portalEnum, roleEnum } from '../../db/schema/users.ts';
import { PORTAL_INFO, PORTALS, ROLE_LABELS, ROLES } from '../../domain/auth/roles.ts';
import { EMPLOYER_VERIFICATION_LABELS, EMPLOYER_VERIFICATION_STATUSES } from '../../domain/employers/verification.ts';
import { AGREEMENT_TYPE_LABELS, AGREEMENT_TYPES, REVIEW_MODE_LABELS, REVIEW_MODES, reviewVerb } from '../../domain/tenancy/agreement-types.ts';
import { verificationMethodEnum, verificationStateEnum, warningCategoryEnum } from '../../db/schema/employer-verifications.ts';
import { WARNING_CATEGORIES, WARNING_CATEGORY_LABELS } from '../../domain/employers/warning-categories.ts';
import { rosterImportStatusEnum } from '../../db/schema/roster-imports.ts';
import { uploadPurposeEnum } from '../../db/schema/uploads.ts';
import { agreementKindEnum, agreementStateEnum } from '../../db/schema/agreements.ts';
import { AGREEMENT_KIND_LABELS, AGREEMENT_KINDS, AGREEMENT_STATES } from '../../domain/agreements/states.ts';
import { onlineSigning } from '../../domain/agreements/online/workflow.ts';
import { offlineSigning } from '../../domain/agreements/offline/workflow.ts';
import { paperRegistration } from '../../domain/agreements/registered/workflow.ts';
import { VERIFICATION_METHOD_LABELS, VERIFICATION_METHODS, VERIFICATION_STATES } from '../../domain/employers/verification/states.ts';
import { employerVerification } from '../../domain/employers/verification/workflow.ts';
import { targetsOf, type AnyWorkflow } from '../../domain/workflow/kernel.ts';
import { ROSTER_IMPORT_STATUS_LABELS, ROSTER_IMPORT_STATUSES } from '../../domain/graduates/import-statuses.ts';
import { UPLOAD_PURPOSE_LABELS, UPLOAD_PURPOSES } from '../../domain/uploads/purposes.ts';
import { terminationInitiatorEnum, terminationPathEnum, terminationStateEnum } from '../../db/schema/terminations.ts';
import { TERMINATION_INITIATOR_LABELS, TERMINATION_INITIATORS, TERMINATION_PATH_LABELS, TERMINATION_PATHS, TERMINATION_STATES } from '../../domain/terminations/states.ts';
import { termination } from '../../domain/terminations/workflow.ts';
import { destinationStateEnum, voidCauseEnum } from '../../db/schema/destinations.ts';
import { DESTINATION_STATES, VOID_CAUSES } from '../../domain/destinations/states.ts';
import { destinationRegistration } from '../../domain/destinations/workflow.ts';
import { freshDatabase } from '../helpers/db.ts';

// Statuses are `as const` arrays shared by the pgEnum and the label maps; they must stay equal,
// in the schema and in the migrated database.
const CASES = [
  ['role', roleEnum.enumValues, ROLES, ROLE_LABELS],
  ['portal', portalEnum.enumValues, PORTALS, PORTAL_INFO],
  ['employer_verification', employerVerificationEnum.enumValues, EMPLOYER_VERIFICATION_STATUSES, EMPLOYER_VERIFICATION_LABELS],
  ['agreement_type', agreementTypeEnum.enumValues, AGREEMENT_TYPES, AGREEMENT_TYPE_LABELS],
  ['review_mode', reviewModeEnum.enumValues, REVIEW_MODES, REVIEW_MODE_LABELS],
  ['roster_import_status', rosterImportStatusEnum.enumValues, ROSTER_IMPORT_STATUSES, ROSTER_IMPORT_STATUS_LABELS],
  ['employer_verification_method', verificationMethodEnum.enumValues, VERIFICATION_METHODS, VERIFICATION_METHOD_LABELS],
  ['employer_verification_state', verificationStateEnum.enumValues, VERIFICATION_STATES, employerVerification.labels.employer],
  ['upload_purpose', uploadPurposeEnum.enumValues, UPLOAD_PURPOSES, UPLOAD_PURPOSE_LABELS],
  ['agreement_state', agreementStateEnum.enumValues, AGREEMENT_STATES, { ...onlineSigning.labels.graduate, ...offlineSigning.labels.graduate, ...paperRegistration.labels.graduate }],
  ['agreement_kind', agreementKindEnum.enumValues, AGREEMENT_KINDS, AGREEMENT_KIND_LABELS],
  ['warning_category', warningCategoryEnum.enumValues, WARNING_CATEGORIES, WARNING_CATEGORY_LABELS],
  ['termination_state', terminationStateEnum.enumValues, TERMINATION_STATES, termination.labels.graduate],
  ['termination_initiator', terminationInitiatorEnum.enumValues, TERMINATION_INITIATORS, TERMINATION_INITIATOR_LABELS],
  ['termination_path', terminationPathEnum.enumValues, TERMINATION_PATHS, TERMINATION_PATH_LABELS],
  ['destination_state', destinationStateEnum.enumValues, DESTINATION_STATES, destinationRegistration.labels.graduate],
  ['destination_void_cause', voidCauseEnum.enumValues, VOID_CAUSES, { graduate: '学生作废', signing: '签约自动作废' }],
] as const;

for (const [name, enumValues, values, labels] of CASES) {
  test(`statuses: ${name} pgEnum equals the domain list and every value has a label`, () => {
    assert.equal([...enumValues], [...values]);
    assert.equal(Object.keys(labels).sort(), [...values].sort());
  });
}

test('statuses: the migrated database has the same enum values', async () => {
  const d = await freshDatabase();
  try {
    for (const [name, , values] of CASES) {
      const rows = await d.db.$client`select e.enumlabel from pg_enum e join pg_type t on t.oid = e.enumtypid where t.typname = ${name} order by e.enumsortorder`;
      assert.equal(rows.map((r) => r.enumlabel), [...values], name);
    }
  } finally {
    await d.drop();
  }
});

test('E2 the verification state table covers every state and leads only to states', () => {
  const { states, events, creations, groups } = employerVerification;
  const reached = new Set<string>([...Object.values(creations).flatMap((c) => targetsOf(c.to)), ...Object.values(events).flatMap((e) => e.transitions.flatMap((t) => targetsOf(t.to)))]);
  assert.equal([...reached].sort(), [...VERIFICATION_STATES].sort(), 'every state is reached, and only states');
  for (const s of VERIFICATION_STATES) {
    const leaving = Object.values(events).some((e) => e.transitions.some((t) => t.from === s));
    assert.is(leaving, !(groups.terminal as readonly string[]).includes(s), s);
  }
  assert.equal([...groups.terminal].sort(), ['approved', 'rejected']);
});

test('the agreement state tables (online, offline, 补登) cover every state and lead only to states', () => {
  const tables: AnyWorkflow[] = [onlineSigning, offlineSigning, paperRegistration];
  const reached = new Set<string>(tables.flatMap((wf) => [...Object.values(wf.creations).flatMap((c) => targetsOf(c.to)), ...Object.values(wf.events).flatMap((e) => e.transitions.flatMap((t) => targetsOf(t.to)))]));
  assert.equal([...reached].sort(), [...AGREEMENT_STATES].sort(), 'every state is reached, and only states');
  for (const wf of tables) for (const e of Object.values(wf.events) as Array<{ transitions: ReadonlyArray<{ from: string }> }>) for (const t of e.transitions as ReadonlyArray<{ from: string }>) assert.ok((wf.states as readonly string[]).includes(t.from));
});

test('解约: the termination table reaches every state, only states, and only terminal states have no way out', () => {
  const { events, creations, groups } = termination;
  const reached = new Set<string>([...Object.values(creations).flatMap((c) => targetsOf(c.to)), ...Object.values(events).flatMap((e) => e.transitions.flatMap((t) => targetsOf(t.to)))]);
  assert.equal([...reached].sort(), [...TERMINATION_STATES].sort());
  for (const s of TERMINATION_STATES) {
    const leaving = Object.values(events).some((e) => (e.transitions as ReadonlyArray<{ from: string }>).some((t) => t.from === s));
    assert.is(leaving, !(groups.terminal as readonly string[]).includes(s), s);
  }
});

test('S3 the reviewer verb: 两方协议 says 鉴证, 三方协议 says 审核', () => {
  assert.is(reviewVerb('two_party'), '鉴证');
  assert.is(reviewVerb('three_party'), '审核');
});

test.run();
