/** Flag value parsers: each turns one string into a typed value or a usage error naming the rule. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

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

/** "832x480" → { width: 832, height: 480 }. */
export function size(value: string): { width: number; height: number } {
  const m = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(value);
  if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) throw new InvalidArgumentError('must be WIDTHxHEIGHT, e.g. 832x480.');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** `--defaults`: inline JSON (`'{"steps": 20}'`) or the path of a JSON file. */
export function jsonObject(value: string): Record<string, unknown> {
  let text = value;
  if (!value.trim().startsWith('{')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch {
      throw new InvalidArgumentError('must be a JSON object or the path of a JSON file.');
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`is not valid JSON (${(err as Error).message}).`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** A repeatable flag: each use adds one parsed value (`--prompt a --prompt b`). */
export function collect<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

export const text = (value: string): string => value;
