/**
 * Which container an output path gets: the one rule the encoder, the CLI and jobs-file
 * validation share (issue 15), including the refusal of names diffsparse does not write
 * (issue 18: `-o out.avi` used to get an MP4 stream).
 */
import type { VideoFormat } from '../core/types.js';
import { VideoEncodeError } from './errors.js';

/** Every container diffsparse writes (png: a folder of frames). */
export const VIDEO_FORMATS: readonly VideoFormat[] = ['mp4', 'webm', 'gif', 'png'];

/** The lower-case extension of the last path part, without the dot; '' for none (or a name ending in a separator). */
function extensionOf(output: string): string {
  const base = output.split(/[/\\]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** The container an output name asks for by its extension (.mp4, .webm, .gif, .png), if any. */
export function formatFromName(output: string): VideoFormat | undefined {
  const ext = extensionOf(output);
  return (VIDEO_FORMATS as readonly string[]).includes(ext) ? (ext as VideoFormat) : undefined;
}

/**
 * Why an output name does not fit its format, or undefined. The extension must be one of
 * VIDEO_FORMATS (a PNG frames folder may hold other dots) and agree with `format` when both
 * are given.
 */
export function outputFormatProblem(output: string, format?: string): string | undefined {
  const ext = extensionOf(output);
  if (ext === '') return undefined;
  const fromName = formatFromName(output);
  if (!fromName) {
    if (format === 'png') return undefined;
    const list = VIDEO_FORMATS.map((f) => `.${f}`).join(', ').replace(/, (?=[^,]*$)/, ' or ');
    return `${JSON.stringify(output)}: ".${ext}" is not a format diffsparse writes; name it ${list} (png writes a folder of frames)`;
  }
  if (format !== undefined && format !== fromName) return `${JSON.stringify(output)} ends in ".${ext}" but the format is ${format}; change one of them`;
  return undefined;
}

/**
 * The one output-format rule: an explicit format must agree with the name's extension, and
 * an extension must be one diffsparse writes; without a format, the extension decides, and a
 * name with no extension (or ending in "/") is a folder of PNG frames.
 */
export function formatOf(output: string, format?: VideoFormat): VideoFormat {
  const problem = outputFormatProblem(output, format);
  if (problem) throw new VideoEncodeError(problem, output);
  return format ?? formatFromName(output) ?? 'png';
}
