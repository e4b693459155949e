/** The `diffsparse` executable (bin/diffsparse.js imports the built copy of this file). */
import { runCli } from './run.js';

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, handleSignals: true });
// Let pending writes flush, then exit even if a library left a handle open.
process.exitCode = code;
setTimeout(() => process.exit(code), 100).unref();
