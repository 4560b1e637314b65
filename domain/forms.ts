import { z } from 'zod';
import { DomainError } from './errors.ts';

// What a field without its own message says: a tampered or cut-off form leaves a field out or sends
// another type. Chinese, as every message; zod's zh-CN locale covers the rest.
z.config({
  ...z.locales.zhCN(),
  customError: (issue) => {
    if (issue.code === 'invalid_type') return issue.input === undefined ? '请填写此项' : '格式不正确';
    return undefined;
  },
});

/** Parses a form with its zod schema; failures become one 422 DomainError with a message per field. */
export function parseForm<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? '_');
    fields[key] ??= issue.message;
  }
  throw new DomainError('invalid', '请检查下面标出的内容', fields);
}

/** An HTML checkbox: present ("on") when ticked, absent otherwise. */
export const isTicked = (v: unknown) => v === 'on' || v === 'true' || v === '1';
