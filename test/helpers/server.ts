import { serve } from '@hono/node-server';
import type { Db } from '../../db/client.ts';
import { freePort } from '../../db/embedded.ts';
import { appOnDb } from './app.ts';


/**
 * The app on a real HTTP server on 127.0.0.1 (a free port), for real-browser tests. Like a real
 * deployment it knows its own address (ORIGIN), which its links and QR codes are built from.
 */
export async function serveApp(db: Db, env: Record<string, string> = {}): Promise<{ base: string; close: () => Promise<void> }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { app, pdf } = appOnDb(db, { ORIGIN: base, ...env });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () =>
      resolve({
        base,
        async close() {
          await new Promise((done) => server.close(done));
          await pdf.close();
        },
      }),
    );
  });
}
