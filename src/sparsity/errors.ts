/** Errors a user of sparsity schedules can hit: each names the file and what to do. */

export class ScheduleError extends Error {
  override readonly name: string = 'ScheduleError';
}

/** Not JSON, not a diffsparse schedule, an unknown version, or a missing/ill-typed field. */
export class ScheduleFormatError extends ScheduleError {
  override readonly name = 'ScheduleFormatError';
}

/** The schedule was made for another model (id or fingerprint differ). */
export class ScheduleModelMismatchError extends ScheduleError {
  override readonly name = 'ScheduleModelMismatchError';
}

/** The schedule's table has a different number of layers than the model. */
export class ScheduleLayerCountError extends ScheduleError {
  override readonly name = 'ScheduleLayerCountError';
}

/** A level outside [0, 1], a table entry that is not one of the declared levels, or a bad level set. */
export class ScheduleLevelError extends ScheduleError {
  override readonly name = 'ScheduleLevelError';
}

/** The token grid or latent shape handed to the sparse runtime does not fit what it was set up for. */
export class SparseShapeError extends Error {
  override readonly name = 'SparseShapeError';
}

/** A sparsity request (schedule, budget, method) that cannot be served as given. */
export class SparsityRequestError extends Error {
  override name = 'SparsityRequestError';
}
