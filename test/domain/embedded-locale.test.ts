import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clusterLocale, startEmbeddedPostgres } from '../../db/embedded.ts';
import { silentLogger } from '../../db/log.ts';

// A new embedded cluster takes a UTF-8 locale whatever LANG the host gives (db/embedded.ts): under C
// or POSIX, PostgreSQL takes no Chinese character for a letter and pg_trgm draws no trigram from a
// name or a unit (every search by one reads its whole index); under a LANG the host lacks, initdb fails.

test('the locale: C.UTF-8 in either spelling first, then en_US, then any UTF-8 one; none, LANG as before', () => {
  assert.equal(clusterLocale(['C', 'C.utf8', 'POSIX', 'en_US.utf8']), ['--locale=C.utf8']);
  assert.equal(clusterLocale(['C', 'en_US.UTF-8', 'zh_CN.UTF-8', 'C.UTF-8']), ['--locale=C.UTF-8']);
  assert.equal(clusterLocale(['C', 'POSIX', 'zh_CN.UTF-8', 'en_US.UTF-8']), ['--locale=en_US.UTF-8']);
  assert.equal(clusterLocale(['C', 'POSIX', 'zh_CN.utf8']), ['--locale=zh_CN.utf8']);
  assert.equal(clusterLocale(['C', 'POSIX']), []);
  assert.equal(clusterLocale([]), []);
});

test('a cluster created under a LANG the host lacks starts, with a UTF-8 locale in which Chinese names give trigrams', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wq-locale-'));
  // The cluster runs as the `postgres` system user, which must be able to enter the directory.
  await chmod(dir, 0o755);
  const env = { LANG: process.env.LANG, LC_ALL: process.env.LC_ALL };
  process.env.LANG = 'xx_XX.UTF-8';
  delete process.env.LC_ALL;
  try {
    const pg = await startEmbeddedPostgres(dir, silentLogger, [], { watchdog: false });
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const [db] = await sql`select datctype from pg_database where datname = current_database()`;
      assert.match(String(db!.datctype), /\.utf-?8$/i);
      await sql`create extension if not exists pg_trgm`;
      const [trigrams] = await sql`select cardinality(show_trgm('越秀综合科技')) as n`;
      assert.ok(Number(trigrams!.n) > 0, 'no trigram from Chinese text');
    } finally {
      await sql.end();
      await pg.stop();
    }
  } finally {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
