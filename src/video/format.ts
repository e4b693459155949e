/** Which container an output path gets: the one rule the encoder and the CLI share. */
import { extname } from 'node:path';
import type { VideoFormat } from '../core/types.js';
import { VideoEncodeError } from './errors.js';

/** The container an output name asks for by its extension (.mp4, .webm, .gif, .png), if any. */
export function formatFromName(output: string): VideoFormat | undefined {
  const ext = extname(output).toLowerCase();
  return ext === '.mp4' || ext === '.webm' || ext === '.gif' || ext === '.png' ? (ext.slice(1) as VideoFormat) : undefined;
}

/**
 * The one output-format rule (the CLI uses it too): an explicit format must agree with the
 * name's extension; without one, the extension decides, and a name with no extension (or
 * ending in "/") is a folder of PNG frames.
 */
export function formatOf(output: string, format?: VideoFormat): VideoFormat {
  const fromName = formatFromName(output);
  if (format && fromName && format !== fromName) throw new VideoEncodeError(`format ${format} does not match the output name ${output}; change one of them`, output);
  if (format ?? fromName) return (format ?? fromName)!;
  if (extname(output) === '' || output.endsWith('/')) return 'png';
  throw new VideoEncodeError(`cannot tell the video format of ${output}; use .mp4, .webm, .gif, or a folder name for PNG frames.`, output);
}
