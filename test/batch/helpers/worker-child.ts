/**
 * A queue worker in its own process, so a test can SIGKILL it mid-job. Prints one JSON line per
 * worker event on stdout. Args: redisUrl queue runnerOptionsJson workerId
 */
import { runWorker } from '../../../src/batch/distributed.js';
import { fastRunner } from './fixtures.js';

const [redis, queue, runnerOptions, id] = process.argv.slice(2);
const controller = new AbortController();
process.once('SIGTERM', () => controller.abort());
const summary = await runWorker({
  redis: redis!, queue: queue!, id: id!, runner: fastRunner(JSON.parse(runnerOptions ?? '{}')),
  lockDurationMs: 1500, stalledIntervalMs: 500, signal: controller.signal,
  onEvent: (e) => {
    if (e.type === 'progress') return;
    const { error, ...rest } = e as typeof e & { error?: Error };
    console.log(JSON.stringify({ ...rest, ...(error ? { error: error.message } : {}) }));
  },
});
console.log(JSON.stringify({ type: 'summary', ...summary }));
