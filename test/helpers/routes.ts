import type { DemoAccount } from './app.ts';

// Routes of the app as requests: a path with its parameters filled in, and the demo account of its portal.

/** A route's path with each parameter filled in by its pattern: a number, an upload id, a school code, a captcha file, else a token. */
export function concretePath(path: string): string {
  return path.replace(/:([a-zA-Z]+)(\{(?:[^{}]|\{[^{}]*\})*\})?/g, (_m, name: string, pattern = '') => {
    if (pattern.includes('[0-9]+')) return '1';
    if (pattern.includes('{22}')) return 'A'.repeat(22);
    if (name === 'code') return '10001';
    if (pattern.includes('png')) return 'x.png';
    return 'x'.repeat(32);
  });
}

/** The demo account whose portal a path belongs to, or null for a public path. */
export function portalAccountOf(path: string): DemoAccount | null {
  const portal = /^\/(student|employer|school|province|admin)(\/|$)/.exec(path)?.[1];
  return (portal as DemoAccount | undefined) ?? null;
}
