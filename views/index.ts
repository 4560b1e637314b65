import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

// One Eta instance renders every page, partial and (later) the agreement document.
// autoEscape is on: `<%=` escapes; `<%~` (raw) is only for markup we produced ourselves.
export function createViews(options: { cache: boolean }): Eta {
  const eta = new Eta({
    views: fileURLToPath(new URL('.', import.meta.url)),
    autoEscape: true,
    autoTrim: [false, 'nl'],
    cache: options.cache,
  });
  if (options.cache) {
    // Eta resolves a template's path on every render and include (path.join, path.relative and a
    // JSON key), about 3 µs a page (issue 14). With the templates cached, their paths are too: the
    // names come from our code, and a name that does not resolve throws each time, as before.
    const resolve = eta.resolvePath;
    const resolved = new Map<string, string>();
    eta.resolvePath = function (template, opts) {
      const key = `${opts?.filepath ?? ''}\0${template}`;
      let path = resolved.get(key);
      if (path === undefined) {
        path = resolve.call(this, template, opts);
        resolved.set(key, path);
      }
      return path;
    };
  }
  return eta;
}
