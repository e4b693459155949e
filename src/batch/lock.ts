/**
 * An output folder's lock (issue 18): two `batch --resume` runs on one folder both rendered every
 * remaining job. A batch takes `<out>/.diffsparse.lock` before it reads the manifest and holds it
 * until it ends. The file records the owner's pid and host; a lock whose process is gone (killed
 * with SIGKILL, a crash) is taken over, and a live owner makes the second run fail at once.
 *
 * The file is written whole under a temporary name and hard-linked into place, so it is never
 * seen half-written, and link() fails atomically when a lock already exists.
 */
import { readFileSync } from 'node:fs';
import { link, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserError } from '../core/errors.js';

export const LOCK_FILE = '.diffsparse.lock';

export class OutputLockedError extends UserError {
  override readonly name: string = 'OutputLockedError';
}

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

/**
 * Whether a process with this pid runs on this machine and could be diffsparse (a pid reused by
 * an unrelated program after a crash does not hold the lock).
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|diffsparse|tsx|vitest/.test(cmdline);
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

export interface HeldLock {
  file: string;
  /** The lock this run replaced because its owner was gone. */
  tookOverFrom?: LockOwner;
  release(): Promise<void>;
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as LockOwner;
    return typeof owner?.pid === 'number' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock of `dir` (which must exist) for `command`; throws OutputLockedError while a live process holds it. */
export async function lockOutputDir(dir: string, command: string): Promise<HeldLock> {
  const file = path.join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
  const tmp = `${file}.${process.pid}-${Date.now()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(me)}\n`);
  let tookOverFrom: LockOwner | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      }
      const owner = await readOwner(file);
      const sameHost = owner?.host === undefined || owner.host === me.host;
      if (owner && (!sameHost || isProcessAlive(owner.pid))) {
        throw new OutputLockedError(
          `output folder ${dir} is in use by another diffsparse ${owner.command} (pid ${owner.pid}${sameHost ? '' : ` on ${owner.host}`}, since ${owner.startedAt}); ` +
            `wait for it to finish or stop it, or use another -o/--out-dir. If no such process runs, delete ${file}`,
        );
      }
      // The owner is gone (or the file is unreadable): move the stale lock aside and try again.
      // Renaming it to a name of our own means only one of two racing runs removes it.
      const aside = `${file}.stale-${process.pid}`;
      const moved = await rename(file, aside).then(() => true, () => false);
      if (moved) {
        const movedOwner = await readOwner(aside);
        if (owner && (movedOwner?.pid !== owner.pid || movedOwner.startedAt !== owner.startedAt)) {
          // Another run took the stale lock over between our read and our rename: give it back.
          await link(aside, file).catch(() => undefined);
          await rm(aside, { force: true });
          throw new OutputLockedError(`output folder ${dir} is in use by another diffsparse ${movedOwner?.command ?? 'run'} (pid ${movedOwner?.pid ?? '?'}); wait for it to finish or stop it, or use another -o/--out-dir`);
        }
        await rm(aside, { force: true });
      }
      tookOverFrom = owner;
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  let released = false;
  return {
    file,
    ...(tookOverFrom ? { tookOverFrom } : {}),
    async release() {
      if (released) return;
      released = true;
      // Only remove the lock if it is still ours.
      const owner = await readOwner(file);
      if (owner?.pid === me.pid && owner.startedAt === me.startedAt) await rm(file, { force: true });
    },
  };
}
