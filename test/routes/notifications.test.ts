import { and, eq } from 'drizzle-orm';
import { idNumberLookup } from '../../db/id-number-keys.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { notifications, users } from '../../db/schema/index.ts';
import { NOTIFICATIONS_PAGE_SIZE, notifyUser } from '../../domain/notifications.ts';
import { DEMO_ACCOUNTS, firstStudentLogin, setupApp, type Client, type DemoAccount, type TestApp } from '../helpers/app.ts';
import type { Doc } from '../helpers/html.ts';
import { textOf } from '../helpers/html.ts';

let t: TestApp;
test.before(async () => {
  t = await setupApp();
});
test.after(async () => {
  await t.close();
});

async function userIdOf(account: DemoAccount): Promise<number> {
  const { portal, login } = DEMO_ACCOUNTS[account];
  const [u] = await t.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.portal, portal), eq(users.login, login || idNumberLookup(await firstStudentLogin(t.db)))));
  return u!.id;
}

/** A user with a clean inbox holding the given notices, oldest first; returns their ids in that order. */
async function inboxOf(account: DemoAccount, notices: Array<{ title: string; body?: string; link?: string }>): Promise<number[]> {
  const userId = await userIdOf(account);
  await t.db.delete(notifications).where(eq(notifications.userId, userId));
  for (const notice of notices) await notifyUser(t.db, userId, notice);
  const rows = await t.db.select({ id: notifications.id }).from(notifications).where(eq(notifications.userId, userId)).orderBy(notifications.id);
  return rows.map((r) => r.id);
}

const headerCount = async (c: Client, path: string) => textOf((await c.get(path)).doc, '#notification-count');
const itemTitles = (doc: Doc) => [...doc.querySelectorAll('#notifications article h2')].map((h) => h.textContent!.replace(/\s+/g, ' ').trim());

const PORTALS: Array<[DemoAccount, string]> = [
  ['student', '/student'],
  ['employer', '/employer'],
  ['school', '/school'],
  ['department', '/school'],
  ['province', '/province'],
  ['admin', '/admin'],
];

for (const [account, home] of PORTALS) {
  test(`G11 ${account}: 消息通知 in the header counts unread, the list shows own notices newest first, reading lowers the count`, async () => {
    const [firstId, secondId] = await inboxOf(account, [{ title: '第一条', body: '正文一' }, { title: '第二条', link: home }]);
    const someoneElse = account === 'admin' ? 'province' : 'admin';
    await inboxOf(someoneElse, [{ title: '别人的消息' }]);
    const c = await t.signInAs(account);

    const page = await c.get(home);
    assert.is(textOf(page.doc, '#notification-count'), '消息通知（2）');
    assert.is(page.doc.querySelector('#notification-count')!.getAttribute('href'), `${home}/notifications`);

    const list = await c.get(`${home}/notifications`);
    assert.is(list.status, 200);
    assert.is(textOf(list.doc, 'h1'), '消息通知');
    assert.equal(itemTitles(list.doc), ['未读 第二条', '未读 第一条']);
    assert.not.ok(list.text.includes('别人的消息'), 'another user’s notice is not listed');
    assert.is(list.doc.querySelector(`#notification-${secondId} form`)!.getAttribute('action'), `${home}/notifications/${secondId}/read`, '查看 marks it read on the way');

    const opened = await c.post(`${home}/notifications/${secondId}/read`, {});
    assert.is(opened.status, 303);
    assert.is(opened.location, home, 'opening a notice follows its link');
    assert.is(await headerCount(c, home), '消息通知（1）');

    const marked = await c.post(`${home}/notifications/${firstId}/read`, {});
    assert.is(marked.location, `${home}/notifications`, 'a notice without a link goes back to the list');
    const after = await c.get(`${home}/notifications`);
    assert.is(textOf(after.doc, '#notification-count'), '消息通知（0）');
    assert.equal(itemTitles(after.doc), ['已读 第二条', '已读 第一条']);
    assert.is(after.doc.querySelector(`#notification-${secondId} a`)!.getAttribute('href'), home, 'a read notice links straight to its page');
  });
}

test('G11 全部标为已读 marks every own notice read and leaves other users’ alone', async () => {
  await inboxOf('employer', [{ title: '邀请一' }, { title: '邀请二' }, { title: '邀请三' }]);
  const [othersId] = await inboxOf('employer2', [{ title: '另一单位的消息' }]);
  const c = await t.signInAs('employer');
  const list = await c.get('/employer/notifications');
  assert.is(textOf(list.doc, '#read-all'), '全部标为已读');
  assert.is(textOf(list.doc, '#notification-summary'), '共 3 条，未读 3 条');

  const res = await c.post('/employer/notifications/read-all', {});
  assert.is(res.status, 303);
  assert.is(res.location, '/employer/notifications');
  const after = await c.get('/employer/notifications');
  assert.is(textOf(after.doc, '#notification-count'), '消息通知（0）');
  assert.is(textOf(after.doc, '#notification-summary'), '共 3 条，未读 0 条');
  assert.not.ok(after.doc.querySelector('#read-all'), 'nothing left to mark');
  const [other] = await t.db.select().from(notifications).where(eq(notifications.id, othersId!));
  assert.is(other!.readAt, null);
});

test('G11 tenancy: another user’s notification id is not found, and stays unread', async () => {
  const [schoolNoticeId] = await inboxOf('school', [{ title: '学校用户的消息' }]);
  const [employerNoticeId] = await inboxOf('employer', [{ title: '单位的消息' }]);
  const department = await t.signInAs('department');
  assert.is((await department.post(`/school/notifications/${schoolNoticeId}/read`, {})).status, 404, 'a department user of the same school');
  const otherUnit = await t.signInAs('employer2');
  assert.is((await otherUnit.post(`/employer/notifications/${employerNoticeId}/read`, {})).status, 404, 'a user of another unit');
  const rows = await t.db.select().from(notifications).where(eq(notifications.userId, await userIdOf('school')));
  assert.is(rows[0]!.readAt, null);
  assert.is((await t.db.select().from(notifications).where(eq(notifications.id, employerNoticeId!)))[0]!.readAt, null);
});

test('G11 a link that could leave the site is neither rendered nor followed', async () => {
  const outside = ['https://evil.example/phish', '//evil.example/x', '/\\evil.example', '/\t/evil.example', 'javascript:alert(1)'];
  const ids = await inboxOf('student', outside.map((link, i) => ({ title: `外链 ${i}`, link })));
  const c = await t.signInAs('student');
  const list = await c.get('/student/notifications');
  assert.is(itemTitles(list.doc).length, outside.length);
  for (const a of list.doc.querySelectorAll('#notifications a')) assert.unreachable(`a link is rendered: ${a.getAttribute('href')}`);
  assert.not.ok(list.text.includes('evil.example'));
  assert.not.ok(list.text.includes('javascript:'));
  for (const id of ids) {
    const res = await c.post(`/student/notifications/${id}/read`, {});
    assert.is(res.location, '/student/notifications');
  }
  const read = await c.get('/student/notifications');
  assert.is(read.doc.querySelectorAll('#notifications a').length, 0, 'not as read notices either');
});

test('G11 the list shows each time in Asia/Shanghai and pages newest first', async () => {
  const userId = await userIdOf('province');
  await t.db.delete(notifications).where(eq(notifications.userId, userId));
  await t.db.insert(notifications).values(
    Array.from({ length: NOTIFICATIONS_PAGE_SIZE + 5 }, (_, i) => ({ userId, title: `消息 ${i + 1}`, createdAt: new Date(Date.UTC(2025, 5, 1, 2, i)) })),
  );
  const c = await t.signInAs('province');
  const first = await c.get('/province/notifications');
  const titles = itemTitles(first.doc);
  assert.is(titles.length, NOTIFICATIONS_PAGE_SIZE);
  assert.is(titles[0], `未读 消息 ${NOTIFICATIONS_PAGE_SIZE + 5}`);
  const newest = first.doc.querySelector('#notifications time')!;
  assert.is(newest.getAttribute('datetime'), new Date(Date.UTC(2025, 5, 1, 2, NOTIFICATIONS_PAGE_SIZE + 4)).toISOString());
  assert.is(newest.textContent, '2025/6/1 10:24:00');
  assert.is(first.doc.querySelector('.pager a[rel=next]')!.getAttribute('href'), '/province/notifications?page=2');

  const second = await c.get('/province/notifications?page=2');
  assert.equal(itemTitles(second.doc), ['未读 消息 5', '未读 消息 4', '未读 消息 3', '未读 消息 2', '未读 消息 1']);
});

test('G11 with htmx, 标为已读 swaps the item and updates the header count out of band', async () => {
  const [id] = await inboxOf('admin', [{ title: '待处理认证' }, { title: '另一条' }]);
  const c = await t.signInAs('admin');
  const list = await c.get('/admin/notifications');
  const form = list.doc.querySelector(`#notification-${id} form`)!;
  assert.is(form.getAttribute('hx-post'), `/admin/notifications/${id}/read`);
  assert.is(form.getAttribute('hx-target'), `#notification-${id}`);

  const res = await c.post(`/admin/notifications/${id}/read`, {}, { 'hx-request': 'true' });
  assert.is(res.status, 200);
  assert.is(textOf(res.doc, `#notification-${id} h2`), '已读 待处理认证');
  assert.not.ok(res.doc.querySelector(`#notification-${id} form`));
  assert.is(res.doc.querySelector('#notification-count')!.getAttribute('hx-swap-oob'), 'true');
  assert.is(textOf(res.doc, '#notification-count'), '消息通知（1）');
  assert.not.ok(res.text.includes('<html'), 'a fragment, not a page');
});

test('G11 visitors see no count; a signed-in user sees it on the landing page too', async () => {
  assert.not.ok((await t.client().get('/')).doc.querySelector('#notification-count'));
  await inboxOf('student', [{ title: '签约邀请' }]);
  const c = await t.signInAs('student');
  assert.is(await headerCount(c, '/'), '消息通知（1）');
});

test.run();
