// Imports the module named by argv[2] in this fresh process and prints, as JSON, every package
// that was loaded on the way: through the module resolution hook (ESM and require() alike) and
// through the CommonJS module cache, two independent records.
import { createRequire, registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

const resolved = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    resolved.add(result.url);
    return result;
  },
});
await import(process.argv[2]);

const packageOf = (path) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.slice(path.lastIndexOf('node_modules/')));
  return m?.[1];
};
const fromHooks = [...resolved].filter((u) => u.startsWith('file:')).map((u) => packageOf(fileURLToPath(u)));
const fromCache = Object.keys(createRequire(import.meta.url).cache).map(packageOf);
const packages = [...new Set([...fromHooks, ...fromCache].filter((p) => p !== undefined))].sort();
console.log(JSON.stringify({ packages }));
