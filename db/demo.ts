import { count } from 'drizzle-orm';
import { makeIdNumber } from '../domain/codes/id-number.ts';
import { makeUscc } from '../domain/codes/uscc.ts';
import { hashPassword } from '../domain/auth/passwords.ts';
import type { Db } from './client.ts';
import { withStoredIdNumber, type StoredIdNumber } from './id-number-keys.ts';
import { departments, employers, graduates, provinces, schools, users } from './schema/index.ts';

// Demo data for a fresh installation: the accounts README.md lists, a roster per school and three
// employers. Deterministic, so the README can name the graduates who can sign in.

export const DEMO_PASSWORDS = {
  admin: 'Admin#2026',
  province: 'Province#2026',
  school: 'School#2026',
  department: 'Dept#2026',
  student: 'Student#2026',
  employer: 'Employer#2026',
} as const;

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗'.split('');
const GIVEN = ['子涵', '浩然', '雨桐', '思远', '欣怡', '宇轩', '梓萱', '俊杰', '诗涵', '明哲', '佳怡', '一鸣', '若曦', '志强', '晓彤', '嘉懿', '天佑', '雅琪', '博文', '静怡'];
const REGIONS = ['110105', '310104', '440305', '510107', '420111', '330106', '370102', '610113'];
const LEVEL_CYCLE = ['31', '11', '01', '31', '31'] as const;
const YEARS = { '31': 4, '11': 3, '01': 4 } as const;
const BIRTH_YEAR = { '31': 2004, '11': 2001, '01': 1997 } as const;
// Every training mode appears, 21 and 41 (not signable) among them.
const TRAINING_BY_INDEX: Record<number, string> = { 3: '21', 4: '41', 5: '22', 6: '42', 7: '3', 8: '5' };

type Major = { code: string; name: string };
type DemoGraduate = Omit<typeof graduates.$inferInsert, keyof StoredIdNumber> & { idNumber: string };

export function demoGraduate(i: number, school: { id: number; code: string }, dept: { id: number; majors: Major[] }): DemoGraduate {
  const level = LEVEL_CYCLE[i % LEVEL_CYCLE.length]!;
  const sex = i % 2 === 0 ? '1' : '2';
  const region = REGIONS[i % REGIONS.length]!;
  const birth = `${BIRTH_YEAR[level] - (i % 2)}-${String((i * 7) % 12 + 1).padStart(2, '0')}-${String((i * 37) % 28 + 1).padStart(2, '0')}`;
  const major = dept.majors[i % dept.majors.length]!;
  const years = YEARS[level];
  return {
    schoolId: school.id,
    departmentId: dept.id,
    cohort: 2026,
    examNo: level === '31' ? `22${region.slice(0, 4)}${String(150000 + i).padStart(8, '0')}` : null,
    name: SURNAMES[i % SURNAMES.length]! + GIVEN[(i * 7 + Number(school.code)) % GIVEN.length]!,
    sex,
    idNumber: makeIdNumber(region, birth, 100 + i * 2, sex),
    ethnicity: ['01', '01', '01', '03', '01', '08'][i % 6]!,
    politicalStatus: ['03', '03', '01', '13'][i % 4]!,
    birthDate: birth,
    educationLevel: level,
    majorCode: major.code,
    majorName: major.name,
    trainingMode: TRAINING_BY_INDEX[i] ?? '1',
    originRegion: region,
    studentNo: `${2026 - years}${school.code.slice(-2)}${String(1000 + i)}`,
    programYears: String(years),
    enrolledOn: `${2026 - years}-09`,
    graduatesOn: '2026-06',
    phone: `1390${school.code.slice(-2)}0${String(1000 + i).slice(-4)}`,
    email: `g${school.code}${String(i).padStart(3, '0')}@stu.example.edu.cn`,
  };
}

/** Seeds the demo data when the database has no users yet; returns false when it did nothing. */
export async function seedDemoData(db: Db): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) > 0) return false;
  const hashes = Object.fromEntries(
    await Promise.all(Object.entries(DEMO_PASSWORDS).map(async ([k, p]) => [k, await hashPassword(p)] as const)),
  ) as Record<keyof typeof DEMO_PASSWORDS, string>;
  await db.transaction(async (tx) => {
    const [bj, sh] = await tx
      .insert(provinces)
      .values([
        { code: '11', name: '北京市', agreementType: 'three_party' },
        { code: '31', name: '上海市', agreementType: 'two_party' },
      ])
      .returning();
    const [s1, s2] = await tx
      .insert(schools)
      .values([
        {
          code: '10001', name: '示范大学', provinceId: bj!.id, onlineSigning: true, paperRegistration: true, destinationRegistration: true,
          reviewMode: 'department_then_school', maxTerminations: 2, handlerName: '陈老师', handlerPhone: '010-62750001',
          address: '北京市海淀区示范路 1 号 示范大学学生就业指导中心', postcode: '100871',
        },
        {
          code: '10002', name: '示例理工大学', provinceId: sh!.id, onlineSigning: true, paperRegistration: true, destinationRegistration: true,
          reviewMode: 'school_only', maxTerminations: 1, handlerName: '周老师', handlerPhone: '021-65980002',
          address: '上海市杨浦区示例路 2 号 示例理工大学就业服务中心', postcode: '200092',
        },
      ])
      .returning();
    const [cs, em, me, ma] = await tx
      .insert(departments)
      .values([
        { schoolId: s1!.id, name: '计算机学院' },
        { schoolId: s1!.id, name: '经济管理学院' },
        { schoolId: s2!.id, name: '机械工程学院' },
        { schoolId: s2!.id, name: '材料科学与工程学院' },
      ])
      .returning();
    const majors: Record<number, Major[]> = {
      [cs!.id]: [{ code: '080901', name: '计算机科学与技术' }, { code: '080902', name: '软件工程' }, { code: '080717T', name: '人工智能' }],
      [em!.id]: [{ code: '020101', name: '经济学' }, { code: '120201K', name: '工商管理' }, { code: '120203K', name: '会计学' }],
      [me!.id]: [{ code: '080202', name: '机械设计制造及其自动化' }],
      [ma!.id]: [{ code: '080401', name: '材料科学与工程' }],
    };
    const roster = [
      ...Array.from({ length: 40 }, (_, i) => demoGraduate(i, s1!, { id: (i % 2 ? em : cs)!.id, majors: majors[(i % 2 ? em : cs)!.id]! })),
      ...Array.from({ length: 10 }, (_, i) => demoGraduate(40 + i, s2!, { id: (i % 2 ? ma : me)!.id, majors: majors[(i % 2 ? ma : me)!.id]! })),
    ];
    const inserted = await tx.insert(graduates).values(roster.map(withStoredIdNumber)).returning();

    const [yue, second, unverified] = await tx
      .insert(employers)
      .values([
        {
          uscc: makeUscc('91110108MA01A0001'), name: '越综合企业', employerType: '39', industry: '34', region: '110108', address: '北京市海淀区中关村大街 100 号',
          contactName: '王经理', contactPhone: '010-62750009', contactMobile: '13800000001', contactEmail: 'hr@yue.example.com', verification: 'verified', verifiedAt: new Date(),
        },
        {
          uscc: makeUscc('91310115MA1K20002'), name: '申城智能制造有限公司', employerType: '31', industry: '22', region: '310115', address: '上海市浦东新区张江路 200 号',
          contactName: '赵主管', contactPhone: '021-50800002', contactMobile: '13800000002', contactEmail: 'hr@shencheng.example.com', verification: 'verified', verifiedAt: new Date(),
        },
        { uscc: makeUscc('91440300MA5F30003'), name: '鹏城贸易有限公司', employerType: '39', industry: '31', region: '440300', address: '深圳市福田区深南大道 300 号', verification: 'unverified' },
      ])
      .returning();

    await tx.insert(users).values([
      { role: 'admin', portal: 'admin', login: 'admin', displayName: '平台管理员', passwordHash: hashes.admin },
      { role: 'province', portal: 'province', login: 'bj-province', displayName: '北京市就业主管部门', passwordHash: hashes.province, provinceId: bj!.id },
      { role: 'province', portal: 'province', login: 'sh-province', displayName: '上海市就业主管部门', passwordHash: hashes.province, provinceId: sh!.id },
      { role: 'school', portal: 'school', login: '10001-admin', displayName: '示范大学就业指导中心', passwordHash: hashes.school, provinceId: bj!.id, schoolId: s1!.id },
      { role: 'department', portal: 'school', login: '10001-cs', displayName: '计算机学院', passwordHash: hashes.department, provinceId: bj!.id, schoolId: s1!.id, departmentId: cs!.id },
      { role: 'department', portal: 'school', login: '10001-em', displayName: '经济管理学院', passwordHash: hashes.department, provinceId: bj!.id, schoolId: s1!.id, departmentId: em!.id },
      { role: 'school', portal: 'school', login: '10002-admin', displayName: '示例理工大学就业服务中心', passwordHash: hashes.school, provinceId: sh!.id, schoolId: s2!.id },
      ...inserted.slice(0, 3).map((g) => ({
        role: 'student' as const, portal: 'student' as const, login: g.idNumberIndex!, phone: g.phone, displayName: g.name,
        passwordHash: hashes.student, schoolId: g.schoolId, departmentId: g.departmentId, graduateId: g.id,
      })),
      { role: 'employer', portal: 'employer', login: '13800000001', phone: '13800000001', displayName: '越综合企业 人事部', passwordHash: hashes.employer, employerId: yue!.id },
      { role: 'employer', portal: 'employer', login: '13800000002', phone: '13800000002', displayName: '申城智能制造 人力资源部', passwordHash: hashes.employer, employerId: second!.id },
      { role: 'employer', portal: 'employer', login: '13800000009', phone: '13800000009', displayName: '鹏城贸易 招聘专员', passwordHash: hashes.employer, employerId: unverified!.id },
    ]);
  });
  return true;
}
