import { Hono, type Context } from 'hono';
import { checkRosterAgainstRegistry, confirmRosterRecord, mismatchMessage, NOT_ON_ROSTER } from '../../domain/graduates/registry.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv } from '../context.ts';
import { render } from '../render.ts';
import { studentInfoRows } from './record.ts';
import { refusalOf } from '../forms.ts';

// G1 核对基本信息: the roster record against the registry; 信息确认无误，进入系统 confirms it.
export const rosterCheckRoutes = new Hono<AppEnv>();

rosterCheckRoutes.get('/check', (c) => checkPage(c));

rosterCheckRoutes.post('/check', async (c) => {
  const { db, registry } = c.get('app');
  try {
    await confirmRosterRecord(db, registry, { actor: c.get('actor')!, ip: clientIp(c) });
  } catch (e) {
    return checkPage(c, refusalOf(e));
  }
  return c.redirect('/student', 303);
});

async function checkPage(c: Context<AppEnv>, refusal?: ReturnType<typeof refusalOf>) {
  const { db, registry } = c.get('app');
  const check = await checkRosterAgainstRegistry(db, c.get('actor')!, registry);
  const confirmed = check.record.confirmedAt !== null;
  return render(
    c,
    'student/check',
    {
      title: '学生信息',
      onRoster: check.onRoster,
      notOnRoster: NOT_ON_ROSTER,
      confirmed: check.onRoster && confirmed,
      mismatch: check.onRoster && !check.consistent ? mismatchMessage(check.mismatches) : undefined,
      canConfirm: check.consistent && !confirmed,
      error: refusal?.error,
      recordRows: studentInfoRows(check.record),
    },
    refusal?.status ?? 200,
  );
}
