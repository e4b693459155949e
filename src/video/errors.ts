/**
 * Errors a user can hit while writing a video. Each names what went wrong and what to do;
 * `stderrTail` keeps ffmpeg's last lines for logs without putting them in the message.
 */
export class VideoEncodeError extends Error {
  override name = 'VideoEncodeError';
  constructor(message: string, readonly output: string, readonly stderrTail = '') {
    super(message);
  }
}

/** The ffmpeg binary is not where it is expected (or not executable). */
export class FfmpegMissingError extends VideoEncodeError {
  override name = 'FfmpegMissingError';
}

/** ffmpeg does not know the requested encoder (or format). */
export class VideoCodecError extends VideoEncodeError {
  override name = 'VideoCodecError';
}

/** ffmpeg was killed by a signal before it finished. */
export class FfmpegKilledError extends VideoEncodeError {
  override name = 'FfmpegKilledError';
}

/** The output could not be written: disk full, read-only or permission denied. */
export class OutputWriteError extends VideoEncodeError {
  override name = 'OutputWriteError';
}

/** ffmpeg exited with an error not covered above. */
export class FfmpegFailedError extends VideoEncodeError {
  override name = 'FfmpegFailedError';
}

/** The frame size cannot be encoded as requested (odd size with yuv420p and oddSize: 'error'). */
export class FrameSizeError extends VideoEncodeError {
  override name = 'FrameSizeError';
}
