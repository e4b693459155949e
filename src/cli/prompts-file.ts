/**
 * `--prompts FILE`: a prompt list as a text file (one prompt a line; blank lines and lines
 * starting with # are skipped) or a JSON array of strings.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../core/errors.js';
import { jsonErrorMessage, MAX_JSON_INPUT_BYTES, refuseSpecialFile } from '../io/input-file.js';
import { UsageError } from './errors.js';

/** The prompts file is missing, unreadable, empty or not in either format. */
export class PromptsFileError extends UserError {
  override readonly name: string = 'PromptsFileError';
}

export function parsePrompts(text: string, file: string): string[] {
  if (/\.json$/i.test(file) || text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new PromptsFileError(`prompts file ${file} is not valid JSON (${jsonErrorMessage(err)}); give a JSON array of strings or one prompt a line`);
    }
    if (!Array.isArray(parsed) || parsed.some((p) => typeof p !== 'string' || p.trim() === '')) {
      throw new PromptsFileError(`prompts file ${file} must hold a JSON array of non-empty strings`);
    }
    return parsed as string[];
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

export async function readPromptsFile(file: string): Promise<string[]> {
  let text: string;
  try {
    await refuseSpecialFile(file, 'a prompts file', MAX_JSON_INPUT_BYTES); // a FIFO or /dev/zero would read forever
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as Error).name === 'InputFileError') throw new PromptsFileError((err as Error).message);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${(err as Error).message})`;
    throw new PromptsFileError(`prompts file ${file} ${why}; give a text file with one prompt a line`);
  }
  const prompts = parsePrompts(text, file);
  if (prompts.length === 0) throw new PromptsFileError(`prompts file ${file} holds no prompts; write one prompt a line`);
  return prompts;
}

/** The prompts of --prompt (repeatable) or --prompts FILE, not both; undefined when neither is given. */
export async function promptsFromFlags(flags: { prompt?: string[]; prompts?: string }): Promise<string[] | undefined> {
  if (flags.prompts !== undefined && flags.prompt !== undefined) throw new UsageError('give prompts with --prompt or with --prompts FILE, not both');
  return flags.prompts !== undefined ? readPromptsFile(flags.prompts) : flags.prompt;
}
