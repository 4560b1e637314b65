import type { Context } from 'hono';
import { rosterCohorts, rosterFilterOptions } from '../domain/graduates/roster.ts';
import { forbidden } from '../domain/errors.ts';
import type { Verb } from '../domain/reviews/chain.ts';
import { schoolSettings, type SchoolSettings } from '../domain/schools/switches.ts';
import type { AppEnv } from './context.ts';

/** Schools whose entries a process keeps; past it the longest unused school is dropped. */
const SCHOOLS_KEPT = 2000;

/**
 * What a school's pages read on every view and seldom changes (issue 14: at most three queries a
 * page): its roster's cohorts, totals and filter options, its settings, its province's verb; a graduate's
 * session reads the version of the graduate's school. An entry is good while the
 * school's cache_version, which the session look-up reads, is the one it was computed under; triggers
 * raise the version whenever what is kept here changes (migration 0020), in whichever process.
 * A value is computed after the version was read, so it is never older than its version.
 */
export class SchoolCache {
  private readonly schools = new Map<number, { version: number; entries: Map<string, Promise<unknown>> }>();

  get<T>(schoolId: number, version: number, key: string, compute: () => Promise<T>): Promise<T> {
    let school = this.schools.get(schoolId);
    if (school?.version !== version) {
      school = { version, entries: new Map() };
    }
    // Most recently used last, so the first is the one to drop.
    this.schools.delete(schoolId);
    this.schools.set(schoolId, school);
    if (this.schools.size > SCHOOLS_KEPT) this.schools.delete(this.schools.keys().next().value!);
    const kept = school.entries.get(key);
    if (kept) return kept as Promise<T>;
    const computed = compute();
    school.entries.set(key, computed);
    // A failed computation is not kept.
    computed.catch(() => school.entries.delete(key));
    return computed;
  }
}

/**
 * `compute` through the signed-in school user's cache, under a key that must name everything the
 * value depends on besides the school (the actor's department, the cohort). Without a school (another
 * portal) it is computed each time.
 */
export function forSchool<T>(c: Context<AppEnv>, key: string, compute: () => Promise<T>): Promise<T> {
  const schoolId = c.get('actor')?.schoolId;
  const version = c.get('signedIn')?.schoolCacheVersion;
  if (schoolId == null || version == null) return compute();
  return c.get('app').schoolCache.get(schoolId, version, key, compute);
}

/** The signed-in user's school's settings (S4) and verb (S3): a graduate's pages read them too. */
export const cachedSchoolSettings = (c: Context<AppEnv>): Promise<SchoolSettings> => forSchool(c, 'settings', () => schoolSettings(c.get('app').db, c.get('actor')!.schoolId!));

/** The signed-in school user's verb (S3), from the cached settings; a user of no school is refused. */
export async function cachedVerb(c: Context<AppEnv>): Promise<Verb> {
  if (c.get('actor')!.schoolId === null) throw forbidden();
  return (await cachedSchoolSettings(c)).verb;
}

/** What a roster read's scope depends on besides the school (graduateScope): the role and the department. */
const scopeKey = (c: Context<AppEnv>) => `${c.get('actor')!.role}:${c.get('actor')!.departmentId}`;

/** The cohorts on the signed-in school user's roster (a department's user sees the department's). */
export const cachedCohorts = (c: Context<AppEnv>): Promise<number[]> => forSchool(c, `cohorts:${scopeKey(c)}`, () => rosterCohorts(c.get('app').db, c.get('actor')!));

/** How many graduates a cohort of the signed-in school user's roster holds (学生名单管理 as it opens). */
export const cachedCohortTotal = (c: Context<AppEnv>, cohort: number) => (count: () => Promise<number>) => forSchool(c, `total:${scopeKey(c)}:${cohort}`, count);

/** What 学生名单管理's filters offer in a cohort of the signed-in school user's roster. */
export const cachedFilterOptions = (c: Context<AppEnv>, cohort: number) =>
  forSchool(c, `options:${scopeKey(c)}:${cohort}`, () => rosterFilterOptions(c.get('app').db, c.get('actor')!, cohort));
