import type { employers, graduates, schools } from '../../db/schema/index.ts';
import type { AgreementType } from '../tenancy/agreement-types.ts';

// What an agreement shows of its parties, frozen when it comes to be: the unit when it invites,
// the graduate's confirmed record and the school's handler when the graduate accepts (G1, S4).
export type UnitSnapshot = {
  name: string;
  uscc: string;
  employerType: string;
  industry: string;
  region: string;
  address: string;
  contactName: string | null;
  contactPhone: string | null;
  contactMobile: string | null;
  contactEmail: string | null;
};

export type GraduateSnapshot = {
  examNo: string | null;
  name: string;
  sex: string;
  /** Sealed as in graduates.id_number_sealed; opened only for the agreement document. */
  idNumberSealed: string;
  ethnicity: string;
  politicalStatus: string;
  birthDate: string;
  school: string;
  department: string;
  educationLevel: string;
  majorName: string;
  trainingMode: string;
  originRegion: string;
  studentNo: string;
  programYears: string;
  enrolledOn: string;
  graduatesOn: string;
  phone: string;
  email: string | null;
};

export type SchoolSnapshot = {
  name: string;
  code: string;
  handlerName: string | null;
  handlerPhone: string | null;
  address: string | null;
  postcode: string | null;
  agreementType: AgreementType;
};

export function snapshotOfUnit(u: typeof employers.$inferSelect): UnitSnapshot {
  return {
    name: u.name,
    uscc: u.uscc,
    employerType: u.employerType,
    industry: u.industry,
    region: u.region,
    address: u.address,
    contactName: u.contactName,
    contactPhone: u.contactPhone,
    contactMobile: u.contactMobile,
    contactEmail: u.contactEmail,
  };
}

export function snapshotOfGraduate(g: typeof graduates.$inferSelect, school: string, department: string): GraduateSnapshot {
  return {
    examNo: g.examNo,
    name: g.name,
    sex: g.sex,
    idNumberSealed: g.idNumberSealed,
    ethnicity: g.ethnicity,
    politicalStatus: g.politicalStatus,
    birthDate: g.birthDate,
    school,
    department,
    educationLevel: g.educationLevel,
    majorName: g.majorName,
    trainingMode: g.trainingMode,
    originRegion: g.originRegion,
    studentNo: g.studentNo,
    programYears: g.programYears,
    enrolledOn: g.enrolledOn,
    graduatesOn: g.graduatesOn,
    phone: g.phone,
    email: g.email,
  };
}

export function snapshotOfSchool(s: typeof schools.$inferSelect, agreementType: AgreementType): SchoolSnapshot {
  return { name: s.name, code: s.code, handlerName: s.handlerName, handlerPhone: s.handlerPhone, address: s.address, postcode: s.postcode, agreementType };
}
