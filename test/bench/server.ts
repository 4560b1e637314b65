import { serve } from '@hono/node-server';
import { Eta } from 'eta';
import { Hono } from 'hono';
import postgres from 'postgres';
import { randomBytes } from 'node:crypto';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../config.ts';
import { storageFor } from '../../db/storage.ts';
import { allJobs } from '../../jobs/index.ts';
import { startJobs } from '../../jobs/scheduler.ts';
import { connect, unixSocketOf, withUnixSocket } from '../../db/client.ts';
import { createLogger } from '../../db/log.ts';
import { createApp } from '../../routes/index.ts';
import { TEMPLATE_DB } from '../helpers/cluster.ts';

// The bench's server process: a bare hello-world app, a minimal one-query page (hono + postgres.js
// + eta, the floor issue 14 measures pages against) and the platform on a clone of the demo
// database, each on its own port; the parent process generates the load and reads our CPU time.
// With BENCH_DATABASE, a further app process on that database (the scale-out bench's second one).
const server = process.env.TEST_PG_SERVER!;
const name = process.env.BENCH_DATABASE ?? `bench_${randomBytes(4).toString('hex')}`;
const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
if (!process.env.BENCH_DATABASE) await admin.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
// The app and the floor connect as npm start's app does: through the embedded server's Unix socket.
const [{ unix_socket_directories: socketDir }] = (await admin`show unix_socket_directories`) as unknown as [{ unix_socket_directories: string }];
await admin.end();
const address = socketDir ? withUnixSocket(`${server}/${name}`, socketDir) : `${server}/${name}`;
const db = connect(address);

// The app's event-loop delay since the last reading (the mixed load's detail): how long a ready callback waited.
// Only for the mixed load's detail (BENCH_MIX_DETAIL): its 1 ms timer costs this machine about 80 ms
// of CPU a second (a VM's timer wake-ups are dear), which every CPU figure of the bench counted.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
if (process.env.BENCH_MIX_DETAIL) loopDelay.enable();
// And the app's own time per request, from the handler's start to its response (the detail compares it with what the generator saw).
const served = createHistogram();
const hello = new Hono()
  .get('/', (c) => c.text('hello'))
  .get('/loop-delay', (c) => {
    const ms = (ns: number) => Math.round(ns / 1e5) / 10;
    const reading = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), served: { p50: ms(served.percentile(50)), p99: ms(served.percentile(99)), max: ms(served.max) } };
    loopDelay.reset();
    served.reset();
    return c.json(reading);
  });
const floorSocket = unixSocketOf(address);
const floorSql = postgres(floorSocket.url, { max: 10, onnotice: () => {}, ...(floorSocket.path ? { path: floorSocket.path } : {}) });
const eta = new Eta({ autoEscape: true });
const floorPage = eta.compile('<!doctype html><title>学校</title><ul><% for (const s of it.rows) { %><li><%= s.name %> <%= s.code %></li><% } %></ul>');
const floor = new Hono().get('/', async (c) => {
  const rows = await floorSql`select name, code from schools order by id limit 20`;
  return c.html(eta.render(floorPage, { rows }));
});
// Errors only, on stderr: a 5xx under load shows its cause.
const config = loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on' });
const log = createLogger('error', (line) => process.stderr.write(line + '\n'));
const storage = storageFor(config);
const app = createApp({ config, db, log, storage });
if (process.env.BENCH_JOBS) startJobs(db, allJobs(config, db, log, storage), log);

const ports: number[] = [];
const timedApp = async (req: Request, env: unknown) => {
  const t0 = process.hrtime.bigint();
  const res = await app.fetch(req, env as never);
  served.record(process.hrtime.bigint() - t0 || 1n);
  return res;
};
for (const fetch of [hello.fetch, floor.fetch, timedApp]) {
  await new Promise<void>((resolve) =>
    serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      ports.push(info.port);
      resolve();
    }),
  );
}
process.stdout.write(JSON.stringify({ hello: ports[0], floor: ports[1], app: ports[2], database: name }) + '\n');
// A profile asked for with BENCH_CPU_PROF is written on a normal exit only.
if (process.env.BENCH_CPU_PROF) process.on('SIGTERM', () => process.exit(0));
