import { Hono } from 'hono';
import { z } from 'zod';
import { listNotifications, markAllNotificationsRead, markNotificationRead, unreadCount } from '../domain/notifications.ts';
import type { AppEnv } from './context.ts';
import { idParam } from './params.ts';
import { notificationsPath, pageOrFragments, render } from './render.ts';

// G11: 消息通知, mounted by every portal at /{portal}/notifications behind its guard. Each query is
// scoped to the signed-in user, so one user never sees or marks another's notifications.
export const notificationRoutes = new Hono<AppEnv>();

export const listQuery = z.object({ page: z.coerce.number().int().min(1).max(100000).catch(1) });

notificationRoutes.get('/', async (c) => {
  const actor = c.get('actor')!;
  const { page } = listQuery.parse(c.req.query());
  const list = await listNotifications(c.get('app').db, actor, page);
  return render(c, 'notifications/index', { title: '消息通知', ...list, base: notificationsPath(actor.portal) });
});

// Opening a notification marks it read and follows its link. Without a link, htmx swaps just the
// item and the header count; without JavaScript the list reloads.
notificationRoutes.post('/:id{[0-9]+}/read', async (c) => {
  const actor = c.get('actor')!;
  const { db } = c.get('app');
  const notification = await markNotificationRead(db, actor, idParam(c));
  const base = notificationsPath(actor.portal);
  if (notification.link) return c.redirect(notification.link, 303);
  return pageOrFragments(
    c,
    () => c.redirect(base, 303),
    async () => [
      { view: 'notifications/_item', data: { n: notification, base } },
      { view: 'notifications/_count', data: { href: base, unread: await unreadCount(db, actor.userId), outOfBand: true } },
    ],
  );
});

notificationRoutes.post('/read-all', async (c) => {
  const actor = c.get('actor')!;
  await markAllNotificationsRead(c.get('app').db, actor);
  return c.redirect(notificationsPath(actor.portal), 303);
});
