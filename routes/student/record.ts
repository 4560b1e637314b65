import { regionName } from '../../domain/codes/regions.ts';
import { EDUCATION_LEVEL_SHORT, ETHNICITIES, POLITICAL_STATUSES, SEXES, TRAINING_MODES, labelOf } from '../../domain/codes/tables.ts';
import type { RosterRecord } from '../../domain/graduates/registry.ts';
import type { getGraduate } from '../../domain/graduates/roster.ts';

export type RecordRow = { label: string; value: string; id?: string };

/** 学生信息 as the guide's confirmation page lists it (G1), with the full ID number the graduate must check. */
export function studentInfoRows(g: RosterRecord): RecordRow[] {
  return [
    { label: '考生号', value: g.examNo ?? '' },
    { label: '姓名', value: g.name },
    { label: '性别', value: labelOf(SEXES, g.sex) },
    { label: '出生日期', value: g.birthDate },
    { label: '身份证号', value: g.idNumber },
    { label: '生源省市', value: regionName(g.originRegion) ?? g.originRegion },
    { label: '民族', value: labelOf(ETHNICITIES, g.ethnicity) },
    { label: '政治面貌', value: labelOf(POLITICAL_STATUSES, g.politicalStatus) },
    { label: '毕业院校', value: g.school },
    { label: '层次', value: labelOf(EDUCATION_LEVEL_SHORT, g.educationLevel) },
    { label: '专业名称', value: g.majorName },
    { label: '学制', value: g.programYears },
    { label: '入学时间', value: g.enrolledOn },
    { label: '毕业时间', value: g.graduatesOn },
  ];
}

/** The confirmed record on the graduate home: what agreements will show, ID number masked. */
export function homeRecordRows(g: Awaited<ReturnType<typeof getGraduate>>): RecordRow[] {
  return [
    { label: '姓名', value: g.name },
    { label: '身份证号', value: g.idNumberMasked },
    { label: '毕业院校', value: g.school, id: 'record-school' },
    { label: '院系', value: g.department },
    { label: '学历层次', value: labelOf(EDUCATION_LEVEL_SHORT, g.educationLevel) },
    { label: '专业', value: g.majorName },
    { label: '培养方式', value: labelOf(TRAINING_MODES, g.trainingMode) },
    { label: '届别', value: `${g.cohort} 届` },
  ];
}
