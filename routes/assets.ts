import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { favicon } from './favicon.ts';
import { acceptsGzip } from './gzip.ts';
import { gzipSync } from 'node:zlib';

// Static files under content-hashed names, cached for a year: a changed file gets a new URL.
export type Assets = { css: string; htmx: string; htmxConfig: string };

/** A static file, and gzipped once (at the highest level: it is done once, and sent for a year) when it is text. */
type Asset = { body: Uint8Array<ArrayBuffer>; gzipped: Uint8Array<ArrayBuffer> | null; type: string };

// htmx under our CSP: no eval, no injected <style>, no inline scripts, no history snapshots of
// personal data in localStorage on shared PCs, and 422 form errors are swapped in like a 200.
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '422', swap: true },
    { code: '[45]..', swap: false, error: true },
  ],
});

export function loadAssets(): { assets: Assets; routes: Hono } {
  const require = createRequire(import.meta.url);
  const files = new Map<string, Asset>();
  const add = (stem: string, ext: string, path: string, type: string) => {
    const body = readFileSync(path);
    const name = `${stem}.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${ext}`;
    // Each held as its own Uint8Array, sent as it is (not copied for every response).
    files.set(name, { body: new Uint8Array(body), gzipped: type.startsWith('text/') ? new Uint8Array(gzipSync(body, { level: 9 })) : null, type });
    return `/assets/${name}`;
  };
  const htmxVersion = (require('htmx.org/package.json') as { version: string }).version;
  const assets: Assets = {
    css: add('app', 'css', fileURLToPath(new URL('../public/css/app.css', import.meta.url)), 'text/css; charset=utf-8'),
    htmx: add(`htmx-${htmxVersion}`, 'js', require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'),
    htmxConfig: HTMX_CONFIG,
  };
  const routes = new Hono();
  routes.get('/assets/:name', (c) => {
    const file = files.get(c.req.param('name'));
    if (!file) return c.notFound();
    const gzipped = file.gzipped && acceptsGzip(c.req.header('accept-encoding')) ? file.gzipped : null;
    return c.body(gzipped ?? file.body, 200, {
      'Content-Type': file.type,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
      ...(file.gzipped ? { Vary: 'Accept-Encoding' } : {}),
      ...(gzipped ? { 'Content-Encoding': 'gzip' } : {}),
    });
  });
  const icon = new Uint8Array(favicon());
  routes.get('/favicon.ico', (c) => c.body(icon, 200, { 'Content-Type': 'image/x-icon', 'Cache-Control': 'public, max-age=86400', 'X-Content-Type-Options': 'nosniff' }));
  return { assets, routes };
}
