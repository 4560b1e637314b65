import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config.ts';
import { connect } from '../../db/client.ts';
import { silentLogger } from '../../db/log.ts';
import { createApp } from '../../routes/index.ts';
import { TEMPLATE_DB } from '../helpers/cluster.ts';

// The bench's server process: a bare hello-world app and the platform on a clone of the demo
// database, each on its own port; the parent process generates the load.
const server = process.env.TEST_PG_SERVER!;
const name = `bench_${randomBytes(4).toString('hex')}`;
const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
await admin.end();
const db = connect(`${server}/${name}`);

const hello = new Hono().get('/', (c) => c.text('hello'));
const app = createApp({ config: loadConfig({ CAPTCHA: 'off', JOBS: 'off', DEMO: 'on' }), db, log: silentLogger });

const ports: number[] = [];
for (const fetch of [hello.fetch, app.fetch]) {
  await new Promise<void>((resolve) =>
    serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      ports.push(info.port);
      resolve();
    }),
  );
}
process.stdout.write(JSON.stringify({ hello: ports[0], app: ports[1] }) + '\n');
