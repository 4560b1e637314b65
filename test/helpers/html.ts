import { Window } from 'happy-dom';

// One happy-dom window parses every response in a test file; scripts never run.
const window = new Window({ settings: { disableJavaScriptEvaluation: true, disableJavaScriptFileLoading: true, disableCSSFileLoading: true } });

export type Doc = ReturnType<InstanceType<typeof window.DOMParser>['parseFromString']>;

export function parseHtml(html: string): Doc {
  return new window.DOMParser().parseFromString(html, 'text/html');
}

/** The trimmed text of the first element matching the selector, or null when there is none. */
export function textOf(doc: Doc, selector: string): string | null {
  return doc.querySelector(selector)?.textContent?.replace(/\s+/g, ' ').trim() ?? null;
}
