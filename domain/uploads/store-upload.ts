import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { DbOrTx } from '../../db/client.ts';
import { uploads } from '../../db/schema/index.ts';
import type { Storage } from '../../db/storage.ts';
import { acceptUpload } from './accept-upload.ts';
import type { UploadPurpose } from './purposes.ts';

export type IncomingFile = { name: string; bytes: Uint8Array };
export type StoredFile = { storageKey: string; mime: string; byteSize: number; width: number | null; height: number | null; originalName: string };

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
      stored[field] = { storageKey, mime: accepted.mime, byteSize: accepted.bytes.length, width: accepted.width, height: accepted.height, originalName: basename(file.name).slice(0, 200) || `upload.${accepted.extension}` };
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
