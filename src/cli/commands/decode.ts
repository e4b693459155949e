/** `diffsparse decode LATENT.npy -o out.mp4`: decode a latent saved by `generate --save-latent` again, alone. */
import { Command, Option } from 'commander';
import { FORMATS, type OutputFormat } from '../../batch/types.js';
import { formatOf } from '../../video/format.js';
import { printJson, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { deviceList } from '../options.js';
import { number, threadCount } from '../parse.js';
import { formatDuration, ProgressReporter } from '../progress.js';
import type { ExecutionProvider } from '../../runtime/session.js';

interface DecodeFlags {
  output: string;
  format?: OutputFormat;
  sidecar?: string;
  pipeline?: string;
  fps?: number;
  overwrite?: boolean;
  threads?: number;
  device?: ExecutionProvider[];
  json?: boolean;
}

export function decodeCommand(ctx: CliContext): Command {
  return new Command('decode')
    .description('decode a latent saved by `generate --save-latent` into a video again, with the settings of the run that saved it')
    .argument('<latent>', 'the .latent.npy file')
    .requiredOption('-o, --output <file>', 'video to write (mp4, webm, gif, or a folder of PNG frames)')
    .addOption(new Option('--format <fmt>', 'container (default: from the output name)').choices(FORMATS))
    .option('--sidecar <file>', "the run's sidecar JSON (default: <name>.json next to <name>.latent.npy)")
    .option('--pipeline <name|folder>', "pipeline whose VAE decodes (default: the sidecar's pipeline)")
    .option('--fps <n>', "frames per second (default: the run's)", number)
    .option('--overwrite', 'replace the output (and its sidecar) if they already exist')
    .option('--threads <n>', 'onnxruntime threads for the VAE decoder', threadCount)
    .option('--device <list>', 'onnxruntime execution providers, comma-separated (default cpu)', deviceList)
    .option('--json', 'print one JSON object with the result on stdout')
    .addHelpText('after', `
Examples:
  $ diffsparse generate "a red circle moving right" --save-latent -o circle.mp4
  $ diffsparse decode circle.mp4.latent.npy -o circle-again.mp4
  $ diffsparse decode circle.mp4.latent.npy -o frames/ --format png`)
    .action(async (latent: string, flags: DecodeFlags) => {
      let format: OutputFormat;
      try {
        format = formatOf(flags.output, flags.format);
      } catch (e) {
        throw new UsageError(`-o ${(e as Error).message}`);
      }
      const { decodeLatentFile } = await import('../../pipeline/decode.js');
      const progress = new ProgressReporter(ctx.stderr);
      const started = Date.now();
      const result = await decodeLatentFile({
        latent, output: flags.output, format,
        ...(flags.sidecar !== undefined && { sidecar: flags.sidecar }),
        ...(flags.pipeline !== undefined && { pipeline: flags.pipeline }),
        ...(flags.fps !== undefined && { fps: flags.fps }),
        ...(flags.threads !== undefined && { threads: flags.threads }),
        ...(flags.device !== undefined && { providers: flags.device }),
        overwrite: flags.overwrite === true,
        onFrames: (done, total) => progress.update({ phase: 'decode', done, total }),
      });
      progress.endBar();
      if (flags.json) printJson(ctx, { ok: true, output: result.output, sidecar: result.sidecar, frames: result.frames, seed: result.seed, timings: result.timings });
      else ctx.stdout.write(`wrote ${result.output} (${result.frames} frames, ${formatDuration(Date.now() - started)})\n`);
    });
}
