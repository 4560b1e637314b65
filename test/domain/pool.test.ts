import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../../db/client.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

// Issue 14, memory at rest: the app's pool gives its connections back when idle, so PostgreSQL does
// not keep a backend process per pool slot forever. (The app uses 60 s; this pool 1 s.)
let d: TestDatabase;
test.before(async () => {
  d = await freshDatabase();
});
test.after(async () => {
  await d.drop();
});

test('an idle pool closes its connections, and opens one again on the next query', async () => {
  const pool = connect(d.url, 4, 1);
  const ours = async () => {
    const [row] = await d.db.$client`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'wangqian' and pid <> pg_backend_pid() and backend_type = 'client backend'`;
    return row!.n as number;
  };
  const baseline = await ours(); // the test's own pool (application_name wangqian as well)
  try {
    await Promise.all(Array.from({ length: 4 }, () => pool.$client`select pg_sleep(0.05)`));
    assert.ok((await ours()) - baseline >= 2, 'busy: several connections open');
    for (let i = 0; (await ours()) > baseline; i++) {
      if (i > 600) throw new Error('the idle connections were never closed');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [{ one }] = (await pool.$client`select 1 as one`) as unknown as [{ one: number }];
    assert.is(one, 1);
  } finally {
    await pool.$client.end();
  }
});

test.run();
