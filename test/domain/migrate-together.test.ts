import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, migrateDatabase } from '../../db/client.ts';
import { emptyDatabase, type TestDatabase } from '../helpers/db.ts';

// Two app processes starting at once on one empty database (issue 14's scale-out; issue 13's one-time
// sealing step): they migrate one after another under an advisory lock, and both start.
let d: TestDatabase;
test.before(async () => {
  d = await emptyDatabase();
});
test.after(async () => {
  await d.drop();
});

test('two starts migrating one empty database at once both succeed, and the schema is whole', async () => {
  const [one, two] = [connect(d.url, 2), connect(d.url, 2)];
  try {
    const results = await Promise.allSettled([migrateDatabase(one), migrateDatabase(two)]);
    assert.equal(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')), ['ok', 'ok']);
    const [{ n }] = (await d.db.$client`select count(*)::int as n from drizzle.__drizzle_migrations`) as unknown as [{ n: number }];
    const [{ tags }] = (await d.db.$client`select count(*)::int as tags from pg_tables where schemaname = 'public' and tablename = 'graduates'`) as unknown as [{ tags: number }];
    assert.ok(n >= 20, `${n} migrations recorded once each`);
    assert.is(tags, 1);
  } finally {
    await Promise.all([one.$client.end(), two.$client.end()]);
  }
});

test.run();
