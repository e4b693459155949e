/** Redis connections for the job queue, with a clear error when Redis is not there. */
import { Redis } from 'ioredis';
import { RedisUnreachableError, UserError } from './errors.js';

import { DEFAULT_REDIS_URL } from './redis-url.js';

export { DEFAULT_REDIS_URL };

/** BullMQ queue names end up inside Redis keys: keep them to a safe alphabet. */
export function checkQueueName(name: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
    throw new UserError(`queue name "${name}" must be 1-100 letters, digits, dots, dashes or underscores`);
  }
  return name;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'host not found';
  if (e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) return 'timed out';
  return e.message ?? String(err);
}

/**
 * Connect and PING once, failing fast (no endless reconnect loop) if Redis does not answer.
 * The returned client is set up the way BullMQ workers need (no per-command retry limit).
 */
export async function connectRedis(url: string, timeoutMs = 3000): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--redis "${url}" is not a URL; expected something like ${DEFAULT_REDIS_URL}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UserError(`--redis "${url}" must start with redis:// or rediss://`);
  }
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // connect() only says "Connection is closed"; the socket error says why.
  let socketError: unknown;
  probe.on('error', (err) => (socketError ??= err));
  // connectTimeout only covers the TCP handshake: a port that accepts connections and never
  // answers (issue 18: not Redis, or a stopped process) would hang the ready check and the PING
  // forever, so the whole probe has one deadline.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('silent'), { code: 'SILENT' })), timeoutMs);
  });
  try {
    await Promise.race([(async () => {
      await probe.connect();
      await probe.ping();
    })(), deadline]);
  } catch (err) {
    probe.disconnect();
    if ((err as NodeJS.ErrnoException).code === 'SILENT' && socketError === undefined) {
      throw new RedisUnreachableError(`Redis at ${url} accepted the connection but did not answer within ${timeoutMs / 1000} s; check that the port is a working redis-server (not another service, not stopped) or pass --redis with the right URL`);
    }
    throw new RedisUnreachableError(`cannot reach Redis at ${url} (${describe(socketError ?? err)}); start redis-server there or pass --redis with the right URL`);
  } finally {
    clearTimeout(timer);
  }
  probe.disconnect();
  const client = new Redis(url, { maxRetriesPerRequest: null });
  client.on('error', () => undefined); // ioredis reconnects by itself; BullMQ reports lasting failures
  return client;
}
