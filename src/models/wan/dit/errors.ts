/** Errors a user of the DiT runtime or converter can hit, each naming the problem and the fix. */

export class DiTInputError extends Error {
  override name = 'DiTInputError';
}

export class DiTConfigError extends Error {
  override name = 'DiTConfigError';
}

export class DiTModelFolderError extends Error {
  override name = 'DiTModelFolderError';
}

/** A forward pass stopped between blocks because its step's signal was aborted. */
export class DiTPassAbortedError extends Error {
  override name = 'AbortError';
}
