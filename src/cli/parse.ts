/** Flag value parsers: each turns one string into a typed value or a usage error naming the rule. */
import { jsonErrorMessage, MAX_JSON_INPUT_BYTES, readInputFile } from '../io/input-file.js';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { REQUEST_LIMITS } from '../batch/request.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

/** A positive integer of at most `max`; `why` says where the bound comes from. */
export function boundedInt(max: number, why: string): (value: string) => number {
  return (value) => {
    const n = positiveInt(value);
    if (n > max) throw new InvalidArgumentError(`must be at most ${max} (${why}).`);
    return n;
  };
}

/** The CPUs onnxruntime threads (and parallel models) may use: more only slow everything down. */
export const MAX_THREADS = Math.max(1, availableParallelism());

/** `--threads` and other per-CPU counts: 1 to the number of CPUs. */
export const threadCount = boundedInt(MAX_THREADS, `the CPUs on this machine; more threads only contend for them`);

/** Largest frame side, most frames and steps accepted (see REQUEST_LIMITS). */
export const MAX_SIDE = REQUEST_LIMITS.side;
export const MAX_FRAMES = REQUEST_LIMITS.frames;
export const MAX_STEPS = REQUEST_LIMITS.steps;

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a non-negative integer.');
  return n;
}

/** A seed: any non-negative integer. */
export const seedValue = nonNegativeInt;

export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number.');
  return n;
}

export function fraction(value: string): number {
  const n = number(value);
  if (n <= 0 || n > 1) throw new InvalidArgumentError('must be a fraction in (0, 1], e.g. 0.5 for half the dense FLOPs.');
  return n;
}

/** Named sizes, as the Wan2.1 release names them (landscape; give WxH for portrait, e.g. 480x832). */
export const SIZE_PRESETS: Record<string, { width: number; height: number }> = {
  '480p': { width: 832, height: 480 },
  '720p': { width: 1280, height: 720 },
};

/** "832x480", "832*480" (generate.py's spelling) or a preset ("480p", "720p") → { width, height }. */
export function size(value: string): { width: number; height: number } {
  const preset = SIZE_PRESETS[value.trim().toLowerCase()];
  if (preset) return { ...preset };
  const m = /^\s*(\d+)\s*[xX×*]\s*(\d+)\s*$/.exec(value);
  if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) throw new InvalidArgumentError(`must be WIDTHxHEIGHT (or W*H), e.g. 832x480, or a preset: ${Object.keys(SIZE_PRESETS).join(', ')}.`);
  if (Number(m[1]) > MAX_SIDE || Number(m[2]) > MAX_SIDE) throw new InvalidArgumentError(`must be at most ${MAX_SIDE}x${MAX_SIDE} (Wan2.1 renders up to 1280x720), e.g. 832x480.`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** `--defaults`: inline JSON (`'{"steps": 20}'`) or the path of a JSON file. */
export function jsonObject(value: string): Record<string, unknown> {
  let text = value;
  const inline = value.trim().startsWith('{');
  if (!inline) {
    try {
      // stat first: a FIFO or /dev/zero would read forever (issue 18)
      text = readInputFile(value, 'a JSON file', MAX_JSON_INPUT_BYTES).toString('utf8');
    } catch (err) {
      if ((err as Error).name === 'InputFileError' && !/does not exist/.test((err as Error).message)) throw new InvalidArgumentError(`${(err as Error).message}.`);
      throw new InvalidArgumentError('must be a JSON object or the path of a JSON file.');
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Never quote the text: it can be any file (--defaults /etc/passwd), and the message can reach Redis (issue 18).
    throw new InvalidArgumentError(`${inline ? 'is' : 'the file is'} not valid JSON (${jsonErrorMessage(err)}).`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** A repeatable flag: each use adds one parsed value (`--prompt a --prompt b`). */
export function collect<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

export const text = (value: string): string => value;
