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
