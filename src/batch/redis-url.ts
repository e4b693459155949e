/** The Redis URL used when none is given (kept apart from redis.ts so the CLI can show it without loading ioredis). */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
