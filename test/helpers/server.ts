import { serve } from '@hono/node-server';
import type { Db } from '../../db/client.ts';
import { appOnDb } from './app.ts';

/** The app on a real HTTP server on 127.0.0.1 (a free port), for real-browser tests. */
export async function serveApp(db: Db, env: Record<string, string> = {}): Promise<{ base: string; close: () => Promise<void> }> {
  const { app, pdf } = appOnDb(db, env);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({
        base: `http://127.0.0.1:${info.port}`,
        async close() {
          await new Promise((done) => server.close(done));
          await pdf.close();
        },
      }),
    );
  });
}
