/**
 * Records the final latents every sparsity method produces on the fixture tiny DiT (UniPC,
 * 8 steps, CFG 5, the fixture noise and contexts), so a refactor of the executor can be
 * checked against the numbers of the code before it (test/sparsity/methods-reference.test.ts).
 *
 *   npx tsx test/sparsity/reference/record.ts            # prints a comparison with method-outputs.json
 *   npx tsx test/sparsity/reference/record.ts --write    # rewrites method-outputs.json
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cases, summarize, type OutputSummary } from './cases.js';
import { generate, tinySetup } from '../helpers.js';

const file = fileURLToPath(new URL('./method-outputs.json', import.meta.url));
const s = await tinySetup();
const out: Record<string, OutputSummary> = {};
try {
  for (const c of cases(s)) {
    const model = await c.build();
    const data = await generate(s, model);
    await model.release?.();
    out[c.name] = summarize(data);
    out[c.name].sha256 = createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
  }
} finally {
  await s.close();
}
if (process.argv.includes('--write')) {
  writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${Object.keys(out).length} cases to ${file}`);
} else {
  const ref = JSON.parse(readFileSync(file, 'utf8')) as Record<string, OutputSummary>;
  for (const [name, o] of Object.entries(out)) console.log(`${name}: ${ref[name]?.sha256 === o.sha256 ? 'bit-identical' : 'DIFFERENT'}`);
}
