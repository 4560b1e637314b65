import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { idNumberLookup, installedIdNumberKeys, isSealedIdNumber, keyIdOf, openedIdNumber, sealedAsTyped, storedIdNumber } from '../../db/id-number-keys.ts';
import { fieldOfHeader } from './record.ts';

// Migration 0018 renamed graduates.id_number to id_number_sealed and added its check NOT VALID: the
// rows it found still hold plain numbers. This seals them, and every other place a full number sat
// in plain text (a graduate's login, an agreement's graduate snapshot, an import's rejected rows),
// then validates the check. The validated check is the mark that it is done: a later start costs one
// catalog look-up. Each step is idempotent, so a start cut off half-way finishes on the next one.

const BATCH = 1000;
const CHECK = 'graduates_id_number_sealed_check';

export async function sealIdNumbersAtRest(db: Db): Promise<{ sealed: boolean }> {
  const [state] = await db.execute<{ validated: boolean }>(sql`select convalidated as validated from pg_constraint where conname = ${CHECK}`);
  if (!state || state.validated) return { sealed: false };
  installedIdNumberKeys();

  for (;;) {
    const rows = await db.execute<{ id: number; plain: string }>(sql`select id, id_number_sealed as plain from graduates where id_number_index is null order by id limit ${BATCH}`);
    if (rows.length === 0) break;
    const sealed = rows.map((r) => {
      const s = storedIdNumber(r.plain);
      return { id: r.id, s: s.idNumberSealed, i: s.idNumberIndex, m: s.idNumberMasked };
    });
    await db.execute(sql`
      update graduates g set id_number_sealed = v.s, id_number_index = v.i, id_number_masked = v.m
      from json_to_recordset(${JSON.stringify(sealed)}::json) as v(id int, s text, i text, m text) where g.id = v.id`);
  }

  // A graduate signs in by ID number: the login is its blind index.
  for (;;) {
    const rows = await db.execute<{ id: number; login: string }>(sql`select id, login from users where portal = 'student' and login ~ '^[0-9]{17}[0-9Xx]$' order by id limit ${BATCH}`);
    if (rows.length === 0) break;
    const logins = rows.map((r) => ({ id: r.id, login: idNumberLookup(r.login) }));
    await db.execute(sql`update users u set login = v.login from json_to_recordset(${JSON.stringify(logins)}::json) as v(id int, login text) where u.id = v.id`);
  }

  // What an agreement froze of the graduate keeps the number sealed.
  for (;;) {
    const rows = await db.execute<{ id: number; plain: string }>(
      sql`select id, graduate_snapshot->>'idNumber' as plain from agreements where graduate_snapshot ? 'idNumber' order by id limit ${BATCH}`,
    );
    if (rows.length === 0) break;
    const sealed = rows.map((r) => ({ id: r.id, s: storedIdNumber(r.plain ?? '').idNumberSealed }));
    await db.execute(sql`
      update agreements a set graduate_snapshot = (a.graduate_snapshot - 'idNumber') || jsonb_build_object('idNumberSealed', v.s)
      from json_to_recordset(${JSON.stringify(sealed)}::json) as v(id int, s text) where a.id = v.id`);
  }

  // A rejected row of a roster import keeps its cells for the school to correct; the ID cell sealed.
  await rewriteImportErrorRows(db, sql`true`, (values) => sealUploadedIdNumber(values, { alreadySealed: 'keep' }));

  // Sign-in and look-up attempts were keyed by a plain SHA-256 of what was typed (an ID number among
  // them, reversible by trying every number); they only count failures over 15 minutes.
  await db.execute(sql`delete from login_attempts`);

  await db.execute(sql.raw(`alter table graduates validate constraint ${CHECK}`));
  return { sealed: true };
}

// Every sealed number the database holds, with its blind index where it has one: the graduates, the
// agreements' snapshots, the import error rows. The key checks and the keys in use read this one list.
const STORED_SEALED = `
  select sealed, index from (
    select id_number_sealed as sealed, id_number_index as index from graduates
    union all
    select graduate_snapshot->>'idNumberSealed', null from agreements where graduate_snapshot ? 'idNumberSealed'
    union all
    select v.value, null from roster_import_errors e cross join lateral jsonb_each_text(e."values") v where v.value like 'v1:%'
  ) stored where sealed like 'v1:%'`;

// One stored number per key id in use: keys that cannot read them (a restore into a DATA_DIR without
// the old keys, a mistyped ID_NUMBER_KEYS, a key removed too early) are named at the start, not met
// as a 500 on some page later. A scan, of about 0.2 s per million rows, at each start.
export const KEY_SAMPLES_SQL = `
  select distinct on (split_part(sealed, ':', 2)) sealed, index from (${STORED_SEALED}) s
  order by split_part(sealed, ':', 2), index nulls last`;

export async function checkIdNumberKeys(db: Db): Promise<void> {
  const rows = await db.execute<{ sealed: string; index: string | null }>(sql.raw(KEY_SAMPLES_SQL));
  for (const row of rows) checkIdNumberSample(row.sealed, row.index);
}

/** Throws, saying what to do, unless the installed keys open this stored number and index it as stored. */
export function checkIdNumberSample(sealed: string, index: string | null): void {
  const keys = installedIdNumberKeys();
  const keyId = keyIdOf(sealed);
  if (!isSealedIdNumber(sealed) || keyId === undefined || !keys.keys.has(keyId)) {
    throw new Error(`数据库中的身份证号使用密钥 ${keyId ?? '?'} 加密，当前没有该密钥：请把原 DATA_DIR/keys/id-number-keys.json 放回，或在 ID_NUMBER_KEYS 中提供该密钥。`);
  }
  let plain: string;
  try {
    plain = openedIdNumber(sealed);
  } catch {
    throw new Error(`身份证号密钥 ${keyId} 与加密时所用的不同，无法解密：请使用原 DATA_DIR/keys/id-number-keys.json 或原 ID_NUMBER_KEYS。`);
  }
  if (index !== null && index !== idNumberLookup(plain)) throw new Error('身份证号索引密钥（ID_NUMBER_HMAC_KEY）与写入时所用的不同：请使用原 DATA_DIR/keys/id-number-keys.json 或原 ID_NUMBER_HMAC_KEY。');
}

/**
 * An uploaded row's cells with the ID number's sealed. The import seals whatever was typed, even a
 * cell that looks sealed already (`alreadySealed: 'keep'` is for the upgrade step, which must not
 * seal twice); a school cannot put a value the keys do not open into the table.
 */
export function sealUploadedIdNumber(values: Record<string, string>, opts: { alreadySealed: 'seal' | 'keep' } = { alreadySealed: 'seal' }): Record<string, string> {
  const header = Object.keys(values).find((h) => fieldOfHeader(h) === 'idNumber');
  if (header === undefined || (opts.alreadySealed === 'keep' && isSealedIdNumber(values[header]!))) return values;
  return { ...values, [header]: sealedAsTyped(values[header]!) };
}

/** An uploaded row's cells as they were typed, the ID number's opened. */
export function openUploadedIdNumber(values: Record<string, string>): Record<string, string> {
  const header = Object.keys(values).find((h) => fieldOfHeader(h) === 'idNumber');
  if (header === undefined || !isSealedIdNumber(values[header]!)) return values;
  return { ...values, [header]: openedIdNumber(values[header]!) };
}

/**
 * Key rotation's second half: every number sealed under another key than the current one is opened
 * and sealed again under the current key (the blind index does not change). Returns how many values
 * were sealed again; idempotent, in batches, so it can run beside the platform and again later.
 */
export async function resealIdNumbers(db: Db): Promise<number> {
  const keys = installedIdNumberKeys();
  const current = keys.current;
  let count = 0;
  for (;;) {
    const rows = await db.execute<{ id: number; sealed: string }>(
      sql`select id, id_number_sealed as sealed from graduates where split_part(id_number_sealed, ':', 2) <> ${current} order by id limit ${BATCH}`,
    );
    if (rows.length === 0) break;
    const next = rows.map((r) => ({ id: r.id, s: storedIdNumber(openedIdNumber(r.sealed)).idNumberSealed, old: r.sealed }));
    await db.execute(sql`
      update graduates g set id_number_sealed = v.s
      from json_to_recordset(${JSON.stringify(next)}::json) as v(id int, s text, old text) where g.id = v.id and g.id_number_sealed = v.old`);
    count += rows.length;
  }
  for (;;) {
    const rows = await db.execute<{ id: number; sealed: string }>(
      sql`select id, graduate_snapshot->>'idNumberSealed' as sealed from agreements where split_part(graduate_snapshot->>'idNumberSealed', ':', 2) <> ${current} order by id limit ${BATCH}`,
    );
    if (rows.length === 0) break;
    const next = rows.map((r) => ({ id: r.id, s: storedIdNumber(openedIdNumber(r.sealed)).idNumberSealed }));
    await db.execute(sql`
      update agreements a set graduate_snapshot = jsonb_set(a.graduate_snapshot, '{idNumberSealed}', to_jsonb(v.s))
      from json_to_recordset(${JSON.stringify(next)}::json) as v(id int, s text) where a.id = v.id`);
    count += rows.length;
  }
  count += await rewriteImportErrorRows(db, sql`"values"::text like '%"v1:%'`, (values) => {
    const header = Object.keys(values).find((h) => isSealedIdNumber(values[h]!) && keyIdOf(values[h]!) !== keys.current);
    return header === undefined ? values : { ...values, [header]: sealedAsTyped(openedIdNumber(values[header]!)) };
  });
  return count;
}

/** Walks the import error rows `where` selects, a batch at a time, and writes back those `rewrite` changed (a new object); returns how many. */
async function rewriteImportErrorRows(db: Db, where: SQL, rewrite: (values: Record<string, string>) => Record<string, string>): Promise<number> {
  let count = 0;
  for (let after = 0; ; ) {
    const rows = await db.execute<{ id: number; values: Record<string, string> }>(
      sql`select id, "values" from roster_import_errors where id > ${after} and ${where} order by id limit ${BATCH}`,
    );
    if (rows.length === 0) return count;
    const changed = rows.flatMap((r) => {
      const values = rewrite(r.values);
      return values === r.values ? [] : [{ id: r.id, values }];
    });
    if (changed.length > 0) {
      await db.execute(sql`
        update roster_import_errors e set "values" = v."values"
        from json_to_recordset(${JSON.stringify(changed)}::json) as v(id bigint, "values" jsonb) where e.id = v.id`);
      count += changed.length;
    }
    after = rows.at(-1)!.id;
  }
}

/** The key ids the stored numbers are sealed under, with how many each: a key is retired when it is no longer listed. */
export async function keysInUse(db: Db): Promise<Record<string, number>> {
  const rows = await db.execute<{ key: string; n: number }>(sql.raw(`select split_part(sealed, ':', 2) as key, count(*)::int as n from (${STORED_SEALED}) s group by 1 order by 1`));
  return Object.fromEntries(rows.map((r) => [r.key, r.n]));
}
