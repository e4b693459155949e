/**
 * Starting a worker thread on one of our modules. Built code runs the `.js` module directly;
 * from the TypeScript sources (tests, tsx) the thread first loads tsx's API and imports the
 * `.ts` module through it (`tsImport` scopes the loader to that module graph, dynamic imports
 * included), since loaders given to the main thread do not carry into workers.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * `moduleUrl` is the worker module's URL as the caller would import it, with a `.js`
 * extension (e.g. `new URL('./lane-thread.js', import.meta.url)`).
 */
export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  // The pathname, not the URL: tsx's scoped loader appends a query string to module URLs.
  if (!new URL(import.meta.url).pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const entry = new URL(moduleUrl.pathname.replace(/\.js$/, '.ts'), moduleUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}));`;
  return new Worker(bootstrap, { ...options, eval: true });
}
