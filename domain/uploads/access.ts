import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { uploads } from '../../db/schema/index.ts';
import type { Storage } from '../../db/storage.ts';
import type { Actor } from '../auth/sessions.ts';
import { notFound } from '../errors.ts';

// Who may see an uploaded file: the uploader; platform staff for employer evidence; the users of
// the unit it belongs to. Anyone else gets "not found", never "forbidden", so ids reveal nothing.
export async function openUpload(db: DbOrTx, storage: Storage, actor: Actor, id: string) {
  const [upload] = await db.select().from(uploads).where(eq(uploads.id, id));
  if (!upload) throw notFound('文件');
  const isEmployerEvidence = upload.purpose === 'employer_licence' || upload.purpose === 'employer_authorization';
  const allowed =
    upload.uploadedBy === actor.userId ||
    (isEmployerEvidence && actor.role === 'admin') ||
    (upload.employerId !== null && actor.role === 'employer' && actor.employerId === upload.employerId);
  if (!allowed) throw notFound('文件');
  return { upload, bytes: await storage.get(upload.storageKey) };
}
