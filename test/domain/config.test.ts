import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig } from '../../config.ts';

test('config: defaults for a fresh machine', () => {
  const c = loadConfig({});
  assert.is(c.port, 3000);
  assert.is(c.databaseUrl, undefined);
  assert.ok(c.dataDir.endsWith('/data'));
  assert.is(c.demo, true, 'demo data on the embedded database');
  assert.is(c.captcha, true);
  assert.is(c.sms.transport, 'dev');
  assert.is(c.devMailbox, true);
});

test('config: no demo data on DATABASE_URL unless DEMO=1; DEMO=0 disables it on embedded', () => {
  assert.is(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/wq' }).demo, false);
  assert.is(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/wq', DEMO: '1' }).demo, true);
  assert.is(loadConfig({ DEMO: '0' }).demo, false);
});

test('config: ORIGIN is reduced to an origin; CAPTCHA=off turns the captcha off', () => {
  assert.is(loadConfig({ ORIGIN: 'https://wq.example.edu.cn/some/path' }).origin, 'https://wq.example.edu.cn');
  assert.is(loadConfig({ CAPTCHA: 'off' }).captcha, false);
});

test('config errors: every bad setting is named with a Chinese reason', () => {
  try {
    loadConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', CAPTCHA: 'maybe', DEMO: 'perhaps', ORIGIN: 'not a url' });
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, ConfigError);
    const problems = (e as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'CAPTCHA', 'DEMO', 'ORIGIN']) assert.match(problems, name);
    assert.match(problems, '必须是端口号');
    assert.match((e as ConfigError).message, '配置错误');
  }
});

test('config errors: a webhook transport needs its URL; a port out of range is refused', () => {
  assert.throws(() => loadConfig({ SMS_TRANSPORT: 'webhook' }), (e: Error) => e.message.includes('SMS_WEBHOOK_URL'));
  assert.throws(() => loadConfig({ MAIL_TRANSPORT: 'webhook' }), (e: Error) => e.message.includes('MAIL_WEBHOOK_URL'));
  assert.throws(() => loadConfig({ PORT: '70000' }), (e: Error) => e instanceof ConfigError);
});

test('config: empty values count as unset', () => {
  assert.is(loadConfig({ PORT: '', DATABASE_URL: '' }).port, 3000);
});

test.run();
