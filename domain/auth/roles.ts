// Who signs in where. A portal is the door (DESIGN.md section 1); a role is what the user may do behind it.
export const ROLES = ['student', 'employer', 'school', 'department', 'province', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PORTALS = ['student', 'employer', 'school', 'province', 'admin'] as const;
export type Portal = (typeof PORTALS)[number];

export const ROLE_LABELS: Record<Role, string> = {
  student: '毕业生',
  employer: '用人单位',
  school: '学校用户',
  department: '院系用户',
  province: '省级用户',
  admin: '平台管理员',
};

export const PORTAL_INFO: Record<Portal, { path: string; entrance: string; title: string }> = {
  student: { path: '/student', entrance: '学生登录', title: '毕业生' },
  employer: { path: '/employer', entrance: '单位登录', title: '用人单位' },
  school: { path: '/school', entrance: '学校/院系登录', title: '学校/院系' },
  province: { path: '/province', entrance: '省级登录', title: '省级' },
  admin: { path: '/admin', entrance: '平台管理登录', title: '平台管理' },
};

/** Portals whose sign-in asks for an image captcha (S1). */
export const CAPTCHA_PORTALS: readonly Portal[] = ['school', 'province', 'admin'];

/** Idle timeout per portal: shared office PCs (employer, school) end idle sessions after 30 minutes. */
export const IDLE_TIMEOUT_MS: Record<Portal, number> = {
  student: 2 * 60 * 60 * 1000,
  employer: 30 * 60 * 1000,
  school: 30 * 60 * 1000,
  province: 30 * 60 * 1000,
  admin: 30 * 60 * 1000,
};

/** No session lives longer than this, however active. */
export const ABSOLUTE_LIFETIME_MS = 12 * 60 * 60 * 1000;
