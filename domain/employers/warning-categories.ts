// S10 预警单位: why a school marks a unit.
export const WARNING_CATEGORIES = ['violation', 'fake', 'discrimination', 'false_advertising'] as const;
export type WarningCategory = (typeof WARNING_CATEGORIES)[number];

export const WARNING_CATEGORY_LABELS: Record<WarningCategory, string> = {
  violation: '违规单位',
  fake: '虚假单位',
  discrimination: '就业歧视',
  false_advertising: '虚假宣传',
};

/** A unit marked by this many schools is shown as a warning unit to everyone (the school guide). */
export const NATIONWIDE_AFTER_SCHOOLS = 5;
