import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ConvertProgress, Da3Error, type ImageU8, SafetensorsFile, convertCheckpoint, isDa3Error, loadConfig } from '@da3js/core';
import { fileByteSource, fileSink, ioError } from '../hub/fs.js';
import { DepthAnything3, type Da3ProgressEvent } from '../model/depth-anything-3.js';
import { resolveModelSource } from '../model/from-pretrained.js';
import { type CliArgs, USAGE, parseCliArgs } from './args.js';
import { collectInputs } from './inputs.js';

/** Where the CLI writes: stdout for results (`--json`), stderr for progress and errors. */
export interface CliIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** A one-line-per-stage progress printer (carriage-return updates on a TTY). */
function progressPrinter(io: CliIo, quiet: boolean): (e: Da3ProgressEvent) => void {
  let last = '';
  let lastAt = 0;
  return (e) => {
    if (e.status === 'warning') {
      io.stderr.write(`${io.stderr.isTTY && last ? '\n' : ''}da3: warning: ${(e as { message: string }).message}\n`);
      last = '';
      return;
    }
    if (quiet) return;
    let line = '';
    if (e.status === 'progress' && 'total' in e && e.total) line = `download ${e.file ?? ''} ${Math.floor((100 * (e.loaded ?? 0)) / e.total)}%`;
    else if (e.status === 'convert') line = `convert ${(e as ConvertProgress).role} ${Math.floor((100 * (e as ConvertProgress).done) / (e as ConvertProgress).total)}%`;
    else if (e.status === 'infer') line = `inference: ${(e as { stage: string }).stage}`;
    else if (e.status === 'ready' && 'device' in e && e.device) line = `ready on ${e.device.device}${e.device.fallbackReason ? ` (CUDA not used: ${e.device.fallbackReason})` : ''}`;
    if (!line || line === last) return;
    const now = Date.now();
    if (io.stderr.isTTY) {
      if (now - lastAt < 100 && !line.endsWith('100%') && e.status !== 'ready' && e.status !== 'infer') return;
      io.stderr.write(`\r\x1b[2K${line}${e.status === 'ready' || e.status === 'infer' ? '\n' : ''}`);
    } else if (e.status !== 'progress' && e.status !== 'convert') {
      io.stderr.write(`${line}\n`);
    }
    last = line;
    lastAt = now;
  };
}

async function convertCommand(args: CliArgs, io: CliIo, progress: (e: Da3ProgressEvent) => void): Promise<Record<string, unknown>> {
  const files = await resolveModelSource(args.input ?? args.modelDir, { cacheDir: args.cacheDir, revision: args.revision, localFilesOnly: args.localFilesOnly, progress });
  if ('onnxPath' in files) throw new Da3Error('BAD_VALUE', `convert needs a checkpoint (config.json + model.safetensors), got the ONNX graph ${files.onnxPath}`);
  const out = resolve(args.out ?? args.exportDir);
  try {
    mkdirSync(out, { recursive: true });
  } catch (cause) {
    throw ioError('create the output folder', out, cause);
  }
  let configText: string;
  try {
    configText = readFileSync(files.configPath, 'utf8');
  } catch (cause) {
    throw ioError('read', files.configPath, cause);
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(configText);
  } catch (error) {
    if (isDa3Error(error)) throw new Da3Error(error.code, `${files.configPath}: ${error.message}`, { cause: error });
    throw error;
  }
  const source = fileByteSource(files.weightsPath);
  try {
    const result = await convertCheckpoint(await SafetensorsFile.open(source), config, {
      precision: args.dtype === 'fp16' ? 'float16' : 'float32',
      refViewStrategy: args.refViewStrategy,
      strict: args.strict,
      onProgress: progress,
      output: (role) => {
        const name = role === 'net' ? 'model' : role;
        return { sink: fileSink(join(out, `${name}.onnx`)), externalDataSink: fileSink(join(out, `${name}.onnx.data`)), externalDataLocation: `${name}.onnx.data` };
      },
    });
    const written = result.graphs.map((g) => join(out, `${g.role === 'net' ? 'model' : g.role}.onnx`));
    io.stderr.write(`converted → ${written.join(', ')}\n`);
    for (const message of result.warnings) progress({ status: 'warning', message });
    return { command: 'convert', files: written, graphs: result.graphs.map((g) => ({ role: g.role, outputs: g.outputs, externalData: g.externalData, weightBytes: g.weightBytes })) };
  } finally {
    source.close();
  }
}

async function predictCommand(args: CliArgs, io: CliIo, progress: (e: Da3ProgressEvent) => void): Promise<Record<string, unknown>> {
  if (!args.input) throw new Da3Error('BAD_VALUE', `${args.command} needs an input path`);
  const inputs = await collectInputs(args);
  const model = await DepthAnything3.fromPretrained(args.modelDir, {
    device: args.device,
    dtype: args.dtype,
    cacheDir: args.cacheDir,
    revision: args.revision,
    localFilesOnly: args.localFilesOnly,
    strict: args.strict,
    progress,
  });
  try {
    const prediction = await model.inference(inputs.images as ImageU8[], {
      processRes: args.processRes,
      processResMethod: args.processResMethod,
      refViewStrategy: args.refViewStrategy,
      useRayPose: args.useRayPose,
      inferGs: args.inferGs,
      exportFeatLayers: args.exportFeat,
      extrinsics: inputs.extrinsics,
      intrinsics: inputs.intrinsics,
      alignToInputExtScale: args.alignToInputExtScale,
      onProgress: progress,
    });
    const files = await prediction.export({
      dir: args.exportDir,
      formats: args.exportFormat,
      confThreshPercentile: args.confThreshPercentile,
      numMaxPoints: args.numMaxPoints,
      showCameras: args.showCameras,
      imageNames: inputs.names,
      originalSizes: inputs.sizes,
    });
    if (!args.json) io.stderr.write(`wrote ${files.length} file(s) to ${resolve(args.exportDir)}\n`);
    return {
      command: args.command,
      kind: inputs.kind,
      views: prediction.views,
      width: prediction.width,
      height: prediction.height,
      device: model.device?.device,
      isMetric: prediction.isMetric,
      files,
    };
  } finally {
    await model.dispose();
  }
}

/**
 * Runs the `da3` CLI. Exit codes: 0 success, 1 runtime error (one line `da3: error: …` on stderr),
 * 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args: CliArgs | 'help';
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    io.stderr.write(`da3: error: ${(error as Error).message}\nRun "da3 --help" for usage.\n`);
    return 2;
  }
  if (args === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const progress = progressPrinter(io, args.json);
  try {
    let summary: Record<string, unknown>;
    if (args.command === 'convert') summary = await convertCommand(args, io, progress);
    else if (args.command === 'backend' || args.command === 'gallery') {
      const { serveCommand } = await import('./serve.js');
      return await serveCommand(args, io);
    } else summary = await predictCommand(args, io, progress);
    if (args.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (error) {
    const message = isDa3Error(error) ? `${error.message} [${error.code}]` : (error as Error).message;
    io.stderr.write(`${io.stderr.isTTY ? '\n' : ''}da3: error: ${message.split('\n')[0]}\n`);
    return 1;
  }
}

