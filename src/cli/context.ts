/** What a command needs from the outside world; tests pass their own. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliContext {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** Set by a command that finished but must not report success (e.g. some batch jobs failed). */
  exitCode: number;
}

/** Print the one JSON object a `--json` run writes to stdout. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
