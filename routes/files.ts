import type { Context } from 'hono';
import { openUpload } from '../domain/uploads/access.ts';
import { MAX_BATCH_BYTES, type IncomingFile } from '../domain/uploads/store-upload.ts';
import type { AppEnv } from './context.ts';

export const storageOf = (c: Context<AppEnv>) => c.get('app').storage;

/** The body limit of a form carrying a batch of files (MAX_BATCH_BYTES), with room for its framing and fields. */
export const BATCH_BODY_LIMIT = MAX_BATCH_BYTES + 256 * 1024;

/** The files chosen in one field of a parsed multipart body (empty inputs left out), as the domain takes them. */
export function incomingFiles(body: Record<string, unknown>, field: string): Promise<IncomingFile[]> {
  const files = [body[field]].flat().filter((f): f is File => f instanceof File && f.size > 0);
  return Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

/**
 * An uploaded file for an authorised viewer. Images may show inline; everything else (PDFs with
 * whatever scripts they carry) only downloads; nosniff and no-store, under the site's CSP.
 */
export async function serveUpload(c: Context<AppEnv>) {
  const { upload, bytes } = await openUpload(c.get('app').db, storageOf(c), c.get('actor')!, c.req.param('file')!);
  const disposition = upload.mime.startsWith('image/') ? 'inline' : 'attachment';
  return c.body(new Uint8Array(bytes), 200, {
    'Content-Type': upload.mime,
    'Content-Disposition': `${disposition}; filename="upload"; filename*=UTF-8''${encodeURIComponent(upload.originalName)}`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
}
