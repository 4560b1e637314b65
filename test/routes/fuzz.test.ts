import { rm } from 'node:fs/promises';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concretePath, portalAccountOf } from '../helpers/routes.ts';
import { setupApp, type Client, type TestApp } from '../helpers/app.ts';

// Issue 13, standing tests: property-based fuzzing of every POST route through the app, signed in
// as the route's portal (so the form's zod schema and the domain see it, past the guard). Forms are
// built from the field names the app's own forms use, with values from hostile to plausible.
// Properties: never a 5xx; and nothing is stored by a refused request (the tables' row counts do not
// move on a 4xx answer).
let t: TestApp;
test.before(async () => {
  t = await setupApp({ DATA_DIR: `/tmp/wq-fuzz-${process.pid}` });
});
test.after(async () => {
  await t.close();
  await rm(t.config.dataDir, { recursive: true, force: true });
});

/** The client a route is fuzzed with: signed in as the route's portal (one per portal), or anonymous. */
async function clientFor(t: TestApp, clients: Map<string, Client>, route: string, anonymousIp: string): Promise<Client> {
  const account = portalAccountOf(route);
  if (!account) return t.client(anonymousIp);
  if (!clients.has(account)) clients.set(account, await t.signInAs(account));
  return clients.get(account)!;
}

const FIELDS = [
  'name', 'idNumber', 'school', 'cohort', 'login', 'password', 'phone', 'email', 'reason', 'decision', 'type', 'code', 'unitName', 'uscc', 'region',
  'ethnicity', 'politicalStatus', 'educationLevel', 'sex', 'trainingMode', 'originRegion', 'birthDate', 'enrolledOn', 'graduatesOn', 'majorName', 'majorCode',
  'departmentName', 'studentNo', 'programYears', 'examNo', 'favourite', 'positionCategory', 'positionName', 'validityDays', 'contactName', 'contactPhone',
  'workPlace', 'archiveMode', 'supplement', 'category', 'displayName', 'agreementType', 'reviewMode', 'amount', 'q', 'page', 'ids', 'action', 'occupation',
];

const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '0', '-1', '1e309', '99999999999999999999', 'NaN', 'null', 'undefined', 'true', '[]', '{}', '__proto__', 'constructor', '../../etc/passwd', '<script>alert(1)</script>', "' or 1=1 --", '%00', '２０２６', '110105200205061026', '13800000001', '2026-02-30', '9999-12-31', '0000-00-00'),
  fc.integer().map(String),
  fc.string({ minLength: 500, maxLength: 2000 }),
);
const form = fc.dictionary(fc.constantFrom(...FIELDS), hostile, { maxKeys: 8 });


async function rowCounts(): Promise<Record<string, number>> {
  const rows = (await t.db.$client`select relname as name from pg_stat_user_tables where schemaname = 'public'`) as unknown as Array<{ name: string }>;
  const out: Record<string, number> = {};
  for (const { name } of rows) {
    if (['login_attempts', 'idempotency_keys', 'sessions', 'captchas', 'events', 'outbox', 'dev_messages', 'verification_codes'].includes(name)) continue; // bookkeeping of the attempt itself
    const [{ n }] = (await t.db.$client.unsafe(`select count(*)::int as n from "${name}"`)) as unknown as [{ n: number }];
    out[name] = n;
  }
  return out;
}

test('fuzz: every POST route, signed in as its portal, with generated forms: no 5xx, and a refused request stores nothing', async () => {
  const routes = [...new Set(t.app.routes.filter((r) => r.method === 'POST').map((r) => r.path))].filter((p) => !/logout/.test(p));
  const clients = new Map<string, Client>();
  let requests = 0;
  const failures: string[] = [];
  for (const route of routes) {
    const client = await clientFor(t, clients, route, '198.51.100.120');
    const path = concretePath(route);
    await fc.assert(
      fc.asyncProperty(form, async (generated) => {
        const fields = { ...generated };
        const before = await rowCounts().catch((e: unknown) => {
          throw new Error(`counting rows: ${String(e)}`);
        });
        const res = await client.post(path, fields).catch((e: unknown) => {
          throw new Error(`${route}: ${String(e)}`);
        });
        requests++;
        if (res.status >= 500) failures.push(`${route} ${JSON.stringify(fields).slice(0, 200)}: ${res.status}`);
        if (res.status >= 400 && res.status < 500) {
          const after = await rowCounts();
          const moved = Object.keys(after).filter((k) => after[k] !== before[k]);
          if (moved.length) failures.push(`${route} refused (${res.status}) but stored in ${moved.join(', ')}`);
        }
        // A sign-in route locks after five failures: a fresh address keeps the fuzz going.
        return true;
      }),
      { numRuns: 6, seed: 2026 },
    ).catch((e: unknown) => {
      throw new Error(`${route}: ${String((e as { cause?: unknown }).cause ?? e)}`);
    });
  }
  assert.equal(failures, [], failures.join('\n'));
  assert.ok(requests >= 400, `${requests} requests`);
  console.log(`  fuzz: ${requests} requests on ${routes.length} POST routes, 5xx: ${failures.filter((f) => / 5\d\d$/.test(f)).length}`);
});

test('fuzz: every GET page, signed in as its portal, with generated query strings: no 5xx', async () => {
  // Its own database: the POST fuzz above has changed the demo records (a graduate may be off the roster).
  const t = await setupApp({ DATA_DIR: `/tmp/wq-fuzz-get-${process.pid}` });
  try {
    const routes = [...new Set(t.app.routes.filter((r) => r.method === 'GET').map((r) => r.path))].filter((p) => !/\*|logout|\.pdf$|\.xlsx$|\/download/.test(p));
    const clients = new Map<string, Client>();
    let requests = 0;
    const failures: string[] = [];
    for (const route of routes) {
      const client = await clientFor(t, clients, route, '198.51.100.121');
      const path = concretePath(route);
      await fc.assert(
        fc.asyncProperty(form, async (generated) => {
          const query = new URLSearchParams(generated).toString();
          const res = await client.get(`${path}${path.includes('?') ? '&' : '?'}${query}`);
          requests++;
          if (res.status >= 500) failures.push(`GET ${route}?${query.slice(0, 160)}: ${res.status}`);
          return true;
        }),
        { numRuns: 4, seed: 2026 },
      );
    }
    assert.equal(failures, [], failures.join('\n'));
    console.log(`  fuzz: ${requests} GET requests on ${routes.length} pages, 5xx: 0`);
  } finally {
    await t.close();
    await rm(t.config.dataDir, { recursive: true, force: true });
  }
});

test.run();
