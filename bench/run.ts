/**
 * `npm run bench -- <name> [args]` runs bench/<name>.ts in its own process (so each
 * benchmark's peak memory is its own); with no name it lists the benchmarks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('-common.ts')).map((f) => f.slice(0, -3)).sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !existsSync(join(here, `${name}.ts`))) {
  if (name) console.error(`no benchmark named ${name}`);
  console.log(`usage: npm run bench -- <name> [args]\n\nbenchmarks:\n${names.map((n) => `  ${n}`).join('\n')}`);
  process.exit(name ? 2 : 0);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
