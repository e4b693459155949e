/**
 * Runs the CLI: parses argv, runs the command, and turns the outcome into output and an exit
 * code. Ctrl-C (or SIGTERM) aborts the command's AbortSignal; a second Ctrl-C exits at once.
 */
import { CommanderError } from 'commander';
import { printJson, type CliContext, type OutputStream } from './context.js';
import { EXIT, reportError } from './errors.js';
import { createProgram } from './program.js';

export interface RunIO {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Install SIGINT/SIGTERM handlers (the binary does; in-process tests do not). */
  handleSignals?: boolean;
}

export async function runCli(argv: string[], io: RunIO): Promise<number> {
  const controller = new AbortController();
  const ctx: CliContext = { stdout: io.stdout, stderr: io.stderr, signal: controller.signal, exitCode: EXIT.ok };
  let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => (): void => {
    if (stoppedBy) {
      io.stderr.write('\ndiffsparse: stopping now\n');
      // Not process.exit(): its teardown ends the worker threads, and ending one inside
      // onnxruntime aborts the process ('terminate called ... Napi::Error'). Dying by the signal
      // itself, as Unix tools do, stops every thread at once; a batch's manifest is on disk and
      // a staged output is removed by the next run into that folder.
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.kill(process.pid, signal);
      return;
    }
    stoppedBy = signal;
    io.stderr.write(`\ndiffsparse: ${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}: stopping and cleaning up (press Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  if (io.handleSignals) {
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  }
  const debug = argv.includes('--debug');
  const json = argv.includes('--json');
  const program = createProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (and the help hint).
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      if (err.code === 'commander.executeSubCommandAsync') return EXIT.failure;
      if (json) printJson(ctx, { ok: false, error: { name: 'UsageError', message: err.message.replace(/^error: /, '') }, exitCode: EXIT.usage });
      return EXIT.usage;
    }
    const report = reportError(err, debug, stoppedBy);
    io.stderr.write(`${report.text}\n`);
    if (json) printJson(ctx, { ok: false, error: report.json, exitCode: report.exitCode });
    return report.exitCode;
  } finally {
    if (io.handleSignals) {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
  }
}
