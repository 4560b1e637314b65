import { createHash, randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { DbOrTx } from '../../db/client.ts';
import { uploads } from '../../db/schema/index.ts';
import type { Storage } from '../../db/storage.ts';
import { DomainError } from '../errors.ts';
import { acceptUpload } from './accept-upload.ts';
import type { UploadPurpose } from './purposes.ts';

export type IncomingFile = { name: string; bytes: Uint8Array };
export type StoredFile = { storageKey: string; mime: string; byteSize: number; width: number | null; height: number | null; originalName: string; sha256: string };

/**
 * Checks and stores files before the transaction that records them; `discard` removes what was
 * stored, for when that transaction fails, so a failed upload leaves nothing behind. One bad file
 * rejects them all (with its field named) and stores none.
 */
export async function stageFiles<K extends string>(storage: Storage, files: Partial<Record<K, IncomingFile>>): Promise<{ stored: Partial<Record<K, StoredFile>>; discard: () => Promise<void> }> {
  const keys: string[] = [];
  const discard = async () => {
    await Promise.all(keys.map((k) => storage.delete(k)));
  };
  const stored: Partial<Record<K, StoredFile>> = {};
  try {
    for (const field of Object.keys(files) as K[]) {
      const file = files[field];
      if (!file) continue;
      const accepted = await acceptUpload(file.bytes, field);
      const storageKey = await storage.put(accepted.bytes, accepted.extension);
      keys.push(storageKey);
      stored[field] = { storageKey, mime: accepted.mime, byteSize: accepted.bytes.length, width: accepted.width, height: accepted.height, originalName: basename(file.name).slice(0, 200) || `upload.${accepted.extension}`, sha256: createHash('sha256').update(file.bytes).digest('hex') };
    }
  } catch (e) {
    await discard();
    throw e;
  }
  return { stored, discard };
}

/** Records a staged file; returns the upload's id (random, so ids cannot be guessed in sequence). */
export async function recordUpload(
  tx: DbOrTx,
  file: StoredFile,
  owner: { purpose: UploadPurpose; uploadedBy: number | null; employerId?: number | null; schoolId?: number | null; agreementId?: number | null },
): Promise<string> {
  const id = randomBytes(16).toString('base64url');
  await tx.insert(uploads).values({ id, ...file, purpose: owner.purpose, uploadedBy: owner.uploadedBy, employerId: owner.employerId ?? null, schoolId: owner.schoolId ?? null, agreementId: owner.agreementId ?? null });
  return id;
}

/** What one form's files may weigh together; the routes' body limits allow for it (BATCH_BODY_LIMIT). */
export const MAX_BATCH_BYTES = 30 * 1024 * 1024;

/**
 * Several files of one form field (a copy's pages, a 解约函, evidence), checked together and then
 * staged as stageFiles does: how many (with `already` on the record), the total size, and each file.
 * Every refusal names the form's field. With no files, `required` is the refusal, or nothing is staged.
 */
export async function stageBatch(storage: Storage, files: IncomingFile[], opts: { field: string; max: number; unit: string; already?: number; required: string | null }) {
  const refuse = (message: string) => new DomainError('invalid', message, { [opts.field]: message });
  if (files.length === 0) {
    if (opts.required) throw refuse(opts.required);
    return { stored: {} as Partial<Record<string, StoredFile>>, discard: async () => {} };
  }
  if ((opts.already ?? 0) + files.length > opts.max) throw refuse(`最多上传 ${opts.max} ${opts.unit}`);
  if (files.reduce((n, f) => n + f.bytes.length, 0) > MAX_BATCH_BYTES) throw refuse('一次上传的文件合计不能超过 30MB');
  try {
    return await stageFiles(storage, Object.fromEntries(files.map((f, i) => [`${opts.field}${i}`, f])));
  } catch (e) {
    if (e instanceof DomainError && e.code === 'invalid') throw refuse(Object.values(e.fields)[0] ?? e.message);
    throw e;
  }
}

/** Records a staged batch in the caller's transaction; the new upload ids, in the files' order. */
export async function recordUploads(tx: DbOrTx, stored: Partial<Record<string, StoredFile>>, owner: Parameters<typeof recordUpload>[2]): Promise<string[]> {
  const ids: string[] = [];
  for (const file of Object.values(stored)) if (file) ids.push(await recordUpload(tx, file, owner));
  return ids;
}
