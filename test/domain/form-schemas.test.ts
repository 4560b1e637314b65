import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import '../../domain/forms.ts';
import '../helpers/keys.ts';

// Issue 13, standing tests: property-based fuzzing of every zod schema the app exports, on its own
// (the route fuzz sends forms through the app). Found by walking domain/ and routes/, so a new form
// or query schema is fuzzed without being listed here. Properties:
// - a form schema never throws, whatever it is given, and every message it answers with is Chinese
//   (a field the form left out, a number that is not one, a string where a list was expected);
// - a query schema (…Query, parsed with .parse on a page's query string) never throws on any query
//   string: every field has its fallback, so a hand-edited URL shows the page, not a 500.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Found = { name: string; schema: z.ZodType };

async function exportedSchemas(): Promise<Found[]> {
  const found: Found[] = [];
  for (const dir of ['domain', 'routes']) {
    for (const file of (await readdir(`${ROOT}${dir}`, { recursive: true })).filter((f) => f.endsWith('.ts')).sort()) {
      const module = (await import(pathToFileURL(`${ROOT}${dir}/${file}`).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        if (value instanceof z.ZodType) found.push({ name: `${dir}/${file} ${name}`, schema: value });
        else if (value && typeof value === 'object' && !Array.isArray(value)) {
          // A table of schemas (one per 毕业去向 type).
          for (const [key, inner] of Object.entries(value)) if (inner instanceof z.ZodType) found.push({ name: `${dir}/${file} ${name}.${key}`, schema: inner });
        }
      }
    }
  }
  return found;
}

/** The field names an object schema reads (through a transform or pipe), else none. */
function keysOf(schema: z.ZodType): string[] {
  const def = (schema as unknown as { _zod: { def: { shape?: Record<string, unknown>; in?: z.ZodType; innerType?: z.ZodType } } })._zod.def;
  if (def.shape) return Object.keys(def.shape);
  if (def.in) return keysOf(def.in);
  if (def.innerType) return keysOf(def.innerType);
  return [];
}

const hostile = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', ' ', '0', '-1', '1e309', 'NaN', 'on', 'true', '__proto__', 'constructor', 'toString', '２０２６', '2026-02-30', '110105200205061026', '13800000001', '<b>x</b>', 'a\u0000b'),
  fc.integer().map(String),
  fc.string({ minLength: 300, maxLength: 1200 }),
);
// What a form or query string can carry: strings, a repeated field (a list), or nothing.
const value = fc.oneof({ weight: 6, arbitrary: hostile }, { weight: 1, arbitrary: fc.array(hostile, { maxLength: 3 }) });
const inputFor = (keys: string[]) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record(Object.fromEntries([...keys, 'extra'].map((k) => [k, value])), { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.anything() },
  );

const CHINESE = /[\u4e00-\u9fff]/;

test('every exported form schema: never throws, and answers in Chinese; every query schema: never throws', async () => {
  const schemas = await exportedSchemas();
  assert.ok(schemas.length >= 40, `${schemas.length} schemas found`);
  const problems: string[] = [];
  let runs = 0;
  for (const { name, schema } of schemas) {
    const keys = keysOf(schema);
    const isQuery = /Query$/.test(name);
    await fc.assert(
      fc.property(inputFor(keys), (input) => {
        runs++;
        if (isQuery) {
          // A query string is only ever strings (or lists of them).
          if (typeof input !== 'object' || input === null || Array.isArray(input)) return true;
          try {
            schema.parse(input);
          } catch (e) {
            const issues = e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join('.')} ${i.code}`).join(', ') : String(e).slice(0, 120);
            problems.push(`${name} throws: ${issues} | e.g. ${JSON.stringify(input).slice(0, 100)}`);
          }
          return true;
        }
        let result: ReturnType<typeof schema.safeParse>;
        try {
          result = schema.safeParse(input);
        } catch (e) {
          problems.push(`${name} throws: ${String(e).slice(0, 160)} | e.g. ${JSON.stringify(input)?.slice(0, 100)}`);
          return true;
        }
        if (!result.success) {
          for (const issue of result.error.issues) {
            if (!CHINESE.test(issue.message)) problems.push(`${name} ${issue.path.join('.')}: "${issue.message}" | e.g. ${JSON.stringify(input)?.slice(0, 80)}`);
          }
        }
        return true;
      }),
      { numRuns: 60, seed: 2026 },
    );
  }
  const distinct = [...new Map(problems.map((p) => [p.replace(/ \| e\.g\. .*$/s, ''), p])).values()];
  assert.equal(distinct, [], `${distinct.length} problems:\n${distinct.slice(0, 40).join('\n')}`);
  console.log(`  schemas: ${schemas.length} (${schemas.filter((s) => /Query$/.test(s.name)).length} queries), ${runs} inputs, 0 throws, 0 messages not in Chinese`);
});

test.run();
