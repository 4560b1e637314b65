import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import { agreements, destinationRegistrations, uploads } from '../../db/schema/index.ts';
import { destinationScope } from '../destinations/register.ts';
import { agreementScope } from '../agreements/visibility.ts';
import type { Storage } from '../../db/storage.ts';
import type { Actor } from '../auth/sessions.ts';
import { notFound } from '../errors.ts';

// Who may see an uploaded file: the uploader; platform staff for employer evidence; the users of
// the unit it belongs to; for a page of an agreement, whoever may see the agreement (its graduate,
// school, department and unit); for a destination's proof, whoever may see the registration. Anyone else gets "not found", never "forbidden", so ids reveal nothing.

async function seesAgreement(db: DbOrTx, actor: Actor, agreementId: number): Promise<boolean> {
  let scope;
  try {
    scope = agreementScope(actor);
  } catch {
    return false;
  }
  const [row] = await db.select({ id: agreements.id }).from(agreements).where(and(eq(agreements.id, agreementId), scope));
  return !!row;
}
async function seesRegistration(db: DbOrTx, actor: Actor, id: number): Promise<boolean> {
  let scope;
  try {
    scope = destinationScope(actor);
  } catch {
    return false;
  }
  const [row] = await db.select({ id: destinationRegistrations.id }).from(destinationRegistrations).where(and(eq(destinationRegistrations.id, id), scope));
  return !!row;
}

export async function openUpload(db: DbOrTx, storage: Storage, actor: Actor, id: string) {
  const [upload] = await db.select().from(uploads).where(eq(uploads.id, id));
  if (!upload) throw notFound('文件');
  const isEmployerEvidence = upload.purpose === 'employer_licence' || upload.purpose === 'employer_authorization';
  const allowed =
    upload.uploadedBy === actor.userId ||
    (isEmployerEvidence && actor.role === 'admin') ||
    (upload.employerId !== null && actor.role === 'employer' && actor.employerId === upload.employerId) ||
    (upload.agreementId !== null && (await seesAgreement(db, actor, upload.agreementId))) ||
    (upload.destinationId !== null && (await seesRegistration(db, actor, upload.destinationId)));
  if (!allowed) throw notFound('文件');
  return { upload, bytes: await storage.get(upload.storageKey) };
}
