import type { Actor } from '../domain/auth/sessions.ts';

export type NavItem = { href: string; label: string; current: boolean };

// Each portal's menu lists only the rooms that exist, with the guides' words.
const MENUS: Record<Actor['role'], Array<{ href: string; label: string }>> = {
  student: [
    { href: '/student', label: '首页' },
    { href: '/student/check', label: '学生信息' },
    { href: '/student/contact', label: '联系方式' },
  ],
  employer: [
    { href: '/employer', label: '工作台' },
    { href: '/employer/favourites', label: '学生收藏夹' },
    { href: '/employer/agreements', label: '签约/解约' },
    { href: '/employer/archive', label: '户档信息管理' },
    { href: '/employer/accounts', label: '账号管理' },
    { href: '/employer/unit', label: '单位信息' },
  ],
  school: [
    { href: '/school', label: '工作台' },
    { href: '/school/graduates', label: '学生名单管理' },
    { href: '/school/agreements', label: '在线签约管理' },
    { href: '/school/registrations', label: '补登管理' },
    { href: '/school/terminations', label: '解约管理' },
    { href: '/school/destinations', label: '去向登记管理' },
    { href: '/school/warnings', label: '预警单位管理' },
    { href: '/school/review-flags', label: '风险预警' },
    { href: '/school/statistics', label: '数据统计' },
    { href: '/school/settings', label: '签约设置' },
    { href: '/school/accounts', label: '账号管理' },
  ],
  department: [
    { href: '/school', label: '工作台' },
    { href: '/school/graduates', label: '学生名单管理' },
    { href: '/school/agreements', label: '在线签约管理' },
    { href: '/school/registrations', label: '补登管理' },
    { href: '/school/terminations', label: '解约管理' },
    { href: '/school/destinations', label: '去向登记管理' },
    { href: '/school/statistics', label: '数据统计' },
  ],
  province: [
    { href: '/province', label: '首页' },
    { href: '/province/statistics', label: '数据统计' },
    { href: '/province/settings', label: '协议类型设置' },
  ],
  admin: [
    { href: '/admin', label: '首页' },
    { href: '/admin/provinces', label: '省份管理' },
    { href: '/admin/schools', label: '学校管理' },
    { href: '/admin/verifications', label: '单位认证审核' },
    { href: '/admin/employers', label: '单位管理' },
    { href: '/admin/statistics', label: '数据统计' },
  ],
};

// E3: until the unit is verified, the employer sees the verification steps only.
const UNVERIFIED_EMPLOYER_MENU = [
  { href: '/employer', label: '身份认证' },
  { href: '/employer/guide', label: '操作指南' },
];

export function navFor(actor: Actor, path: string): NavItem[] {
  const items = actor.role === 'employer' && !actor.employerVerified ? UNVERIFIED_EMPLOYER_MENU : MENUS[actor.role];
  // The longest matching prefix is the current item, so /school/graduates/7 marks 学生名单管理.
  const current = items
    .filter((i) => path === i.href || path.startsWith(i.href + '/'))
    .sort((a, b) => b.href.length - a.href.length)[0];
  return items.map((i) => ({ ...i, current: i === current }));
}
