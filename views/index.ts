import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

// One Eta instance renders every page, partial and (later) the agreement document.
// autoEscape is on: `<%=` escapes; `<%~` (raw) is only for markup we produced ourselves.
export function createViews(options: { cache: boolean }): Eta {
  return new Eta({
    views: fileURLToPath(new URL('.', import.meta.url)),
    autoEscape: true,
    autoTrim: [false, 'nl'],
    cache: options.cache,
  });
}
