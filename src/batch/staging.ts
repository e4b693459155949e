/**
 * Staging folders: a job renders into its own hidden folder next to its final output, and only a
 * finished job's files are renamed into place (video last). A killed job therefore leaves no
 * file under a final name, and two workers redoing the same job never write the same path.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { OutputPathError } from '../io/safe-output.js';
import { isProcessAlive } from './lock.js';

export const STAGING_DIR = '.diffsparse-staging';

export interface Stage {
  dir: string;
  /** Where the runner writes the video (inside `dir`, with the final file name). */
  output: string;
}

function stagingRoot(finalOutput: string): string {
  return path.join(path.dirname(finalOutput), STAGING_DIR);
}

/** `key` identifies the job (its output name); a random token keeps concurrent attempts apart. */
export async function createStage(finalOutput: string, key = path.basename(finalOutput)): Promise<Stage> {
  const dir = path.join(stagingRoot(finalOutput), `${key}.${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return { dir, output: path.join(dir, path.basename(finalOutput)) };
}

/** Remove every staging folder left by earlier attempts at the job producing `finalOutput`. */
export async function removeStaleStages(finalOutput: string, key = path.basename(finalOutput)): Promise<void> {
  const root = stagingRoot(finalOutput);
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return;
  }
  await Promise.all(entries.filter((e) => e.startsWith(`${key}.`)).map((e) => rm(path.join(root, e), { recursive: true, force: true })));
}

/**
 * Removes the staging folders in `dir`'s `.diffsparse-staging` whose writing process is gone
 * (issue 18: after SIGKILL a rerun with the same -o never cleaned them), and the staging root
 * once it is empty. Stages of live processes (another run writing beside this one) are kept.
 */
export async function removeDeadStages(dir: string): Promise<string[]> {
  const root = path.join(dir, STAGING_DIR);
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const dead = entries.filter((e) => {
    const pid = /\.(\d+)-[0-9a-f]{8}$/.exec(e)?.[1];
    return pid !== undefined && Number(pid) !== process.pid && !isProcessAlive(Number(pid));
  });
  await Promise.all(dead.map((e) => rm(path.join(root, e), { recursive: true, force: true })));
  await rmdir(root).catch(() => undefined); // only succeeds once the root is empty
  return dead;
}

export async function discardStage(stage: Stage): Promise<void> {
  await rm(stage.dir, { recursive: true, force: true });
  await rmdir(path.dirname(stage.dir)).catch(() => undefined); // only succeeds once the root is empty
}

/**
 * Move everything the runner wrote in the stage to the final folder (temporary names skipped),
 * the video last, then remove the stage. Returns the final path of each moved file by name.
 */
export async function commitStage(stage: Stage, finalOutput: string): Promise<Map<string, string>> {
  const finalDir = path.dirname(finalOutput);
  const videoName = path.basename(finalOutput);
  const names = (await readdir(stage.dir)).filter((n) => !/\.tmp(-|$)/.test(n) && !n.startsWith('.'));
  if (!names.includes(videoName)) throw new Error(`the runner did not write ${videoName} in ${stage.dir}`);
  const ordered = [...names.filter((n) => n !== videoName), videoName];
  // Nothing is moved unless every target can take its file: a device, FIFO or socket is never
  // replaced (a rename would swap out e.g. /dev/null), and a folder only by a folder (PNG frames).
  for (const name of ordered) {
    const target = path.join(finalDir, name);
    const existing = await lstat(target).catch(() => undefined);
    if (!existing || existing.isFile()) continue;
    const source = await lstat(path.join(stage.dir, name));
    if (existing.isDirectory() && source.isDirectory()) continue;
    throw new OutputPathError(`refusing to replace ${target}: it is ${existing.isDirectory() ? 'a folder' : 'not a regular file'}; choose another output path`);
  }
  const moved = new Map<string, string>();
  for (const name of ordered) {
    const target = path.join(finalDir, name);
    await rename(path.join(stage.dir, name), target);
    moved.set(name, target);
  }
  await discardStage(stage);
  return moved;
}
