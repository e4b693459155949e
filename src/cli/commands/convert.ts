/**
 * `diffsparse convert CHECKPOINT OUT`: a Wan2.1 release folder into a diffsparse model folder
 * (dit/, vae/, text/ and pipeline.json, usable as `--pipeline OUT`), or with --dit-only just
 * the DiT stage files.
 */
import { Command, Option } from 'commander';
import { printJson, type CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { ProgressReporter } from '../progress.js';

interface ConvertFlags {
  output?: string;
  dtype: 'float32' | 'float16' | 'bfloat16';
  ditOnly?: boolean;
  json?: boolean;
  textMode?: 'auto' | 'layered' | 'onnx';
  quantize?: 'int8' | 'int4';
}

/** The output folder: the second argument, or -o (kept from the first version of the command). */
function outputOf(out: string | undefined, flags: ConvertFlags): string {
  if (out !== undefined && flags.output !== undefined && out !== flags.output) {
    throw new UsageError(`two output folders given (${out} and -o ${flags.output}); give one`);
  }
  const folder = out ?? flags.output;
  if (folder === undefined) throw new UsageError('missing the output folder: diffsparse convert <checkpoint> <out>');
  return folder;
}

export function convertCommand(ctx: CliContext): Command {
  return new Command('convert')
    .description('convert a Wan2.1 release folder (DiT, VAE, text encoder, tokenizer) into a diffsparse model folder')
    .argument('<checkpoint>', 'release folder (the one holding config.json, Wan2.1_VAE.pth and the T5 .pth); with --dit-only a DiT checkpoint folder')
    .argument('[out]', 'model folder to write (created if missing); pass it to other commands as --pipeline <out>')
    .option('-o, --output <folder>', 'the model folder, as a flag instead of the second argument')
    .addOption(new Option('--dtype <dtype>', 'storage dtype of the large matrices, compute stays float32: float16 halves the files (onnxruntime widens them to float32 at load); bfloat16 halves the DiT\'s Linear weights on disk and in memory (the release\'s own dtype, kept bit for bit; the text encoder and VAE stay float32)').choices(['float32', 'float16', 'bfloat16']).default('float32'))
    .addOption(new Option('--quantize <bits>', 'store the DiT\'s Linear weights as int8 (or int4) blocks run by onnxruntime\'s MatMulNBits with int8 compute: 4x (8x) smaller, faster on CPU, slightly different numbers').choices(['int8', 'int4']))
    .addOption(new Option('--text-mode <mode>', 'text encoder: layered runs it layer by layer from the release .pth (a few GB, no copy), onnx converts it to one graph (fast for small encoders); auto picks layered above 8 GB of float32 weights').choices(['auto', 'layered', 'onnx']).default('auto'))
    .option('--dit-only', 'convert only the DiT into ONNX stage files (no VAE, text encoder or pipeline.json)')
    .option('--json', 'print the written pipeline definition (or DiT manifest) as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ diffsparse convert ~/models/Wan2.1-T2V-1.3B models/wan21-1.3b
  $ diffsparse generate "a red fox running through snow" --pipeline models/wan21-1.3b
  $ diffsparse convert ~/models/Wan2.1-T2V-1.3B models/wan21-1.3b-fp16 --dtype float16
  $ diffsparse convert ~/models/Wan2.1-T2V-14B models/wan21-14b-bf16 --dtype bfloat16
  $ diffsparse convert ~/models/Wan2.1-T2V-1.3B models/wan21-1.3b-dit --dit-only`,
    )
    .action(async (checkpoint: string, out: string | undefined, flags: ConvertFlags) => {
      const output = outputOf(out, flags);
      const progress = new ProgressReporter(ctx.stderr);
      if (flags.ditOnly) {
        const { convertCheckpoint } = await import('../../convert/index.js');
        const manifest = await convertCheckpoint(checkpoint, output, {
          dtype: flags.dtype,
          ...(flags.quantize && { quantize: flags.quantize }),
          onStage: (_stage, index, total) => progress.update({ phase: 'encode-video', done: index + 1, total }, 'convert'),
        });
        progress.endBar();
        if (flags.json) printJson(ctx, { ok: true, output, manifest });
        else ctx.stdout.write(`wrote ${output}: ${Object.keys(manifest.stages).length} stages, ${manifest.source.parameters} parameters (${manifest.storageDtype})\n`);
        return;
      }
      const { convertModel } = await import('../../convert/model.js');
      const definition = await convertModel(checkpoint, output, {
        dtype: flags.dtype,
        ...(flags.quantize && { quantize: flags.quantize }),
        ...(flags.textMode && flags.textMode !== 'auto' && { textLayered: flags.textMode === 'layered' }),
        onProgress: (part, message) => progress.line(`${part}: ${message}`),
      });
      if (flags.json) printJson(ctx, { ok: true, output, pipeline: definition });
      else ctx.stdout.write(`wrote ${output}: pipeline "${definition.name}" (dit/, vae/, text/, ${flags.dtype}); use it with --pipeline ${output}\n`);
    });
}
