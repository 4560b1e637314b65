import type { Context } from 'hono';
import { localStorage, uploadsDir } from '../db/storage.ts';
import { openUpload } from '../domain/uploads/access.ts';
import type { AppEnv } from './context.ts';

export const storageOf = (c: Context<AppEnv>) => localStorage(uploadsDir(c.get('app').config.dataDir));

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
