/**
 * The one output-format rule (src/video/format.ts): the encoder, `generate -o` and jobs-file
 * validation share it (issue 15), and it refuses names diffsparse does not write (issue 18).
 */
import { describe, expect, it } from 'vitest';
import { requestFieldProblems } from '../../src/batch/request.js';
import { VideoEncodeError } from '../../src/video/errors.js';
import { formatFromName, formatOf, outputFormatProblem } from '../../src/video/format.js';

describe('formatOf', () => {
  it('takes the format from the extension, or from --format when they agree', () => {
    expect(formatOf('a/fox.mp4')).toBe('mp4');
    expect(formatOf('fox.WEBM')).toBe('webm');
    expect(formatOf('fox.gif', 'gif')).toBe('gif');
    expect(formatFromName('fox.avi')).toBeUndefined();
  });

  it('a name without an extension (or ending in /) is a folder of PNG frames unless a format is given', () => {
    expect(formatOf('frames')).toBe('png');
    expect(formatOf('out.d/')).toBe('png');
    expect(formatOf('clip', 'mp4')).toBe('mp4');
  });

  it('a PNG folder may hold other dots, but not a video extension', () => {
    expect(formatOf('frames.v2', 'png')).toBe('png');
    expect(() => formatOf('fox.mp4', 'png')).toThrow(/"fox\.mp4" ends in "\.mp4" but the format is png/);
  });

  it('refuses an extension diffsparse does not write, naming the formats, even with a format given', () => {
    for (const format of [undefined, 'mp4'] as const) {
      expect(() => formatOf('x.avi', format)).toThrow(VideoEncodeError);
      expect(() => formatOf('x.avi', format)).toThrow(/"\.avi" is not a format diffsparse writes; name it \.mp4, \.webm, \.gif or \.png/);
    }
  });

  it('jobs-file validation says the same as the encoder', () => {
    for (const [output, format] of [['x.avi', undefined], ['x.gif', 'mp4'], ['fox.mp4', 'png'], ['frames.v2', 'png'], ['clip', undefined]] as const) {
      const problem = outputFormatProblem(output, format);
      const fields = { output, ...(format && { format }) };
      expect(requestFieldProblems(fields)).toEqual(problem ? [`"output" ${problem}`] : []);
      if (problem) expect(() => formatOf(output, format)).toThrow(problem);
      else expect(() => formatOf(output, format)).not.toThrow();
    }
  });
});
