/** Runs one batch in its own process so a test can SIGKILL it mid-run. Args: jobsFile outDir runnerOptionsJson */
import { runBatch } from '../../../src/batch/local.js';
import { fastRunner } from './fixtures.js';

const [jobsFile, outDir, runnerOptions] = process.argv.slice(2);
await runBatch({ jobsFile: jobsFile!, outDir: outDir!, runner: fastRunner(JSON.parse(runnerOptions ?? '{}')) });
