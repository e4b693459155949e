/** Errors a user can hit while converting a checkpoint. */

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** The checkpoint's tensor names do not match the model its config describes. */
export class CheckpointKeyError extends CheckpointError {
  override name = 'CheckpointKeyError';
  constructor(
    readonly checkpoint: string,
    readonly missing: string[],
    readonly unexpected: string[],
  ) {
    const list = (keys: string[]): string => keys.slice(0, 12).join(', ') + (keys.length > 12 ? `, … (${keys.length} in all)` : '');
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${list(missing)}`);
    if (unexpected.length) parts.push(`unexpected keys: ${list(unexpected)}`);
    super(`${checkpoint}: the weights do not match config.json (${parts.join('; ')}); check that config.json belongs to these weights and that the files are complete`);
  }
}
