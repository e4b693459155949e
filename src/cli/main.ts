/** The `diffsparse` executable (bin/diffsparse.js imports the built copy of this file). */
import { fileURLToPath } from 'node:url';
import { inheritedArgv, relaunchIfLong } from './relaunch.js';
import { runCli } from './run.js';

// A long command line (e.g. a very long prompt) crashes onnxruntime in worker threads: such
// arguments are handed to a fresh process through a pipe instead (see relaunch.ts).
// A reader that stops early (`diffsparse --help | head`) closes the pipe: the command carries
// on with nothing more written there, as Unix tools do, instead of dying on an EPIPE error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}
const argv = inheritedArgv() ?? process.argv.slice(2);
const relaunched = process.argv.length > 2 ? await relaunchIfLong(argv, process.argv[1] ?? fileURLToPath(import.meta.url)) : undefined;
const code = relaunched ?? (await runCli(argv, { stdout: process.stdout, stderr: process.stderr, handleSignals: true }));
// Let pending writes flush, then exit even if a library left a handle open.
process.exitCode = code;
setTimeout(() => process.exit(code), 100).unref();
