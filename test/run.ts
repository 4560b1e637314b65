import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestCluster } from './helpers/cluster.ts';

// `npm test` after the typecheck: every test file runs in its own process against its own database
// cloned from one migrated template; two files at a time (the machine has two cores), browser last.
const root = fileURLToPath(new URL('.', import.meta.url));
const withBrowser = !process.argv.includes('--no-browser');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const find = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(root, dir, f));
const pick = (files: string[]) => (only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files);
const groups = [pick([...find('domain'), ...find('routes')]), withBrowser ? pick(find('browser')) : []];

type Result = { file: string; passed: number; failed: number; code: number | null; output: string };

function runFile(file: string, serverUrl: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, TEST_PG_SERVER: serverUrl, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5 * 60 * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
      const failed = code === 0 ? total - passed : Math.max(1, total - passed);
      resolve({ file, passed, failed, code, output });
    });
  });
}

async function runAll(files: string[], serverUrl: string, parallel: number): Promise<Result[]> {
  const results: Result[] = [];
  const queue = [...files];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const r = await runFile(file, serverUrl);
        results.push(r);
        const mark = r.code === 0 && r.failed === 0 ? 'ok  ' : 'FAIL';
        process.stdout.write(`${mark} ${relative(root, file)} (${r.passed} passed${r.failed ? `, ${r.failed} failed` : ''})\n`);
        if (mark === 'FAIL' || process.env.TEST_VERBOSE) process.stdout.write(r.output.replace(/^/gm, '    ') + '\n');
      }
    }),
  );
  return results;
}

const started = Date.now();
const cluster = await startTestCluster();
let results: Result[] = [];
try {
  results = [...(await runAll(groups[0]!, cluster.serverUrl, 2)), ...(await runAll(groups[1]!, cluster.serverUrl, 1))];
} finally {
  await cluster.stop();
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
process.stdout.write(`\n${results.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s\n${passed} passed, ${failed} failed\n`);
process.exit(failed || results.length === 0 ? 1 : 0);
