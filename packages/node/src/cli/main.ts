import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ConvertProgress, convertCheckpoint, Da3Error, graphDtypeChoice, type ImageU8, type InferenceProgress, isDa3Error, loadConfig, SafetensorsFile, type StreamProgress } from '@da3js/core';
import { fileByteSource, fileSink, ioError } from '../hub/fs.js';
import type { Da3ProgressEvent } from '../model/depth-anything-3.js';
import { resolveModelSource } from '../model/from-pretrained.js';
import { type CliArgs, parseCliArgs, USAGE } from './args.js';
import { errorLines } from './error-line.js';
import { collectInputs } from './inputs.js';
import { loadCliModel } from './load-model.js';
import { cliVersion } from './version.js';

/** Where the CLI writes: stdout for results (`--json`), stderr for progress and errors. */
export interface CliIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** `12.3 s`, `2 min 05 s`. */
function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

/** A 20-cell bar for a fraction in [0, 1]. */
function bar(fraction: number): string {
  const cells = Math.round(20 * Math.min(1, Math.max(0, fraction)));
  return `[${'#'.repeat(cells)}${'.'.repeat(20 - cells)}]`;
}

/**
 * The CLI's progress display on stderr. On a TTY: one line per stage updated in place, with a
 * bar and an ETA for downloads and conversion (bytes / tensors done) and for the network stage
 * (estimated from this machine's earlier runs; elapsed time when there is none). Elsewhere (logs,
 * pipes): one plain line per stage. Warnings always print.
 */
class ProgressPrinter {
  private last = '';
  private lastAt = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private stageStart = new Map<string, number>();

  constructor(
    private readonly io: CliIo,
    private readonly quiet: boolean,
  ) {}

  private get tty(): boolean {
    return !!this.io.stderr.isTTY;
  }

  /** ETA text from the share done since `key` started. */
  private eta(key: string, fraction: number): string {
    const start = this.stageStart.get(key) ?? Date.now();
    if (!this.stageStart.has(key)) this.stageStart.set(key, start);
    const spent = Date.now() - start;
    if (fraction <= 0.02 || spent < 500) return '';
    return fraction >= 1 ? ` ${seconds(spent)}` : ` ETA ${seconds((spent * (1 - fraction)) / fraction)}`;
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Ends the current in-place line (before an error or the summary). */
  finish(): void {
    this.stopTicker();
    if (this.tty && this.last) this.io.stderr.write('\n');
    this.last = '';
  }

  private write(line: string, final: boolean): void {
    if (this.tty) this.io.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else this.io.stderr.write(`${line}\n`);
    this.last = final ? '' : line;
    this.lastAt = Date.now();
  }

  /** The progress callback for the model, the converter and input decoding. */
  readonly onEvent = (e: Da3ProgressEvent | StreamProgress | { status: 'decode'; done: number; total: number } | { status: 'gs_video'; stage: 'render' | 'encode'; done: number; total: number }): void => {
    if (e.status === 'warning') {
      this.finish();
      this.io.stderr.write(`da3: warning: ${(e as { message: string }).message}\n`);
      return;
    }
    if (this.quiet) return;
    if (e.status === 'progress' && 'total' in e && e.total) {
      const f = (e.loaded ?? 0) / e.total;
      this.throttled(`download ${e.file ?? ''} ${bar(f)} ${Math.floor(100 * f)}%${this.eta(`dl:${e.file}`, f)}`, f >= 1);
    } else if (e.status === 'convert') {
      const c = e as ConvertProgress;
      const f = c.done / c.total;
      this.throttled(`convert ${c.role} graph ${bar(f)} ${c.done}/${c.total} tensors${this.eta(`cv:${c.role}`, f)}`, c.done === c.total);
    } else if (e.status === 'gs_video') {
      const g = e as { stage: 'render' | 'encode'; done: number; total: number };
      this.throttled(`gs_video ${g.stage} ${bar(g.done / g.total)} ${g.done}/${g.total} frames${this.eta(`gs:${g.stage}`, g.done / g.total)}`, g.done === g.total);
    } else if (e.status === 'decode') {
      const d = e as { done: number; total: number };
      this.throttled(`decode ${bar(d.done / d.total)} ${d.done}/${d.total} images`, d.done === d.total);
    } else if (e.status === 'infer') {
      this.inference(e as InferenceProgress);
    } else if (e.status === 'stream') {
      this.stream(e as StreamProgress);
    } else if (e.status === 'ready' && 'device' in e && e.device) {
      this.stopTicker();
      this.write(`ready on ${e.device.device}${e.device.fallbackReason ? ` (CUDA not used: ${e.device.fallbackReason})` : ''}`, true);
    }
  };

  private throttled(line: string, final: boolean): void {
    if (!this.tty) {
      if (final) this.write(line, true);
      return;
    }
    if (!final && Date.now() - this.lastAt < 100) return;
    this.stopTicker();
    this.write(line, final);
  }

  /**
   * `da3 stream`: one line per chunk (updated in place on a TTY): which chunk runs, frames done,
   * a bar and an ETA when the length is known (from the chunks this run computed).
   */
  private streamStart: { at: number; done: number } | undefined;

  private stream(e: StreamProgress): void {
    const of = e.chunksTotal ? `/${e.chunksTotal}` : '';
    const frames = `frames ${e.start}–${e.end - 1}`;
    if (e.stage === 'resumed') {
      this.throttled(`stream: chunk ${e.chunk + 1}${of} (${frames}) finished earlier, kept`, !this.tty);
      return;
    }
    if (e.stage === 'infer') {
      this.streamStart ??= { at: Date.now(), done: e.chunksDone };
      this.throttled(`stream: chunk ${e.chunk + 1}${of} (${frames}) running…${this.streamEta(e)}`, false);
      return;
    }
    if (e.stage === 'loop') {
      this.throttled(`stream: loop chunk ${e.chunk + 1}/${e.loopsTotal} (frames ${e.start}… ↔ …${e.end - 1}) running…`, !this.tty);
      return;
    }
    if (e.stage === 'optimize') {
      this.throttled(`stream: Sim(3) pose graph over ${e.loopsTotal} loop(s); re-writing the outputs`, !this.tty);
      return;
    }
    if (e.stage === 'done') {
      this.stopTicker();
      this.write(`stream: ${e.framesDone} frames in ${e.chunksDone} chunk(s), ${seconds(e.elapsedMs)}`, true);
      return;
    }
    const f = e.chunksTotal ? e.chunksDone / e.chunksTotal : 0;
    const barText = e.chunksTotal ? ` ${bar(f)}` : '';
    this.throttled(`stream: chunk ${e.chunk + 1}${of} done, ${e.framesDone} frames${barText}${this.streamEta(e)}`, !this.tty);
  }

  private streamEta(e: StreamProgress): string {
    const s = this.streamStart;
    if (!s || !e.chunksTotal) return '';
    const computed = e.chunksDone - s.done;
    if (computed < 1) return '';
    const per = (Date.now() - s.at) / computed;
    return ` ETA ${seconds(per * (e.chunksTotal - e.chunksDone))}`;
  }

  /** Renders the running network stage (kept so its last state can be printed when it ends). */
  private networkLine: (() => string) | undefined;

  private inference(e: InferenceProgress): void {
    const size = e.width && e.height ? ` ${e.width}×${e.height}` : '';
    const views = `${e.views} view${e.views === 1 ? '' : 's'}${size}`;
    if (e.stage === 'network' && e.graphsDone !== 0) return;
    this.stopTicker();
    if (this.networkLine && this.tty) this.write(this.networkLine(), true);
    this.networkLine = undefined;
    if (e.stage !== 'network') {
      this.write(`inference: ${e.stage} (${views})`, true);
      return;
    }
    const estimate = e.estimatedMs;
    const started = Date.now();
    const label = `inference: network (${views}${e.graphsTotal && e.graphsTotal > 1 ? `, ${e.graphsTotal} graphs` : ''})`;
    if (!this.tty) {
      this.write(`${label}${estimate === undefined ? '' : `, about ${seconds(estimate)}`}`, true);
      return;
    }
    const line = () => {
      const spent = Date.now() - started;
      return estimate === undefined ? `${label} ${seconds(spent)}` : `${label} ${bar(spent / estimate)} ${seconds(spent)} / ~${seconds(estimate)}`;
    };
    this.networkLine = line;
    this.write(line(), false);
    this.ticker = setInterval(() => this.write(line(), false), 250);
    this.ticker.unref?.();
  }
}

async function convertCommand(args: CliArgs, io: CliIo, progress: (e: Da3ProgressEvent) => void, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const files = await resolveModelSource(args.input ?? args.modelDir, { cacheDir: args.cacheDir, revision: args.revision, localFilesOnly: args.localFilesOnly, progress, signal });
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
      ...graphDtypeChoice(args.dtype),
      refViewStrategy: args.refViewStrategy,
      strict: args.strict,
      onProgress: progress,
      signal,
      output: (role) => {
        const name = role === 'net' ? 'model' : role;
        return { sink: fileSink(join(out, `${name}.onnx`)), externalDataSink: fileSink(join(out, `${name}.onnx.data`)), externalDataLocation: `${name}.onnx.data` };
      },
    });
    const written = result.graphs.map((g) => join(out, `${g.role === 'net' ? 'model' : g.role}.onnx`));
    io.stderr.write(`converted → ${written.join(', ')}\n`);
    for (const message of result.warnings) progress({ status: 'warning', message });
    return { command: 'convert', dtype: args.dtype, files: written, graphs: result.graphs.map((g) => ({ role: g.role, outputs: g.outputs, externalData: g.externalData, weightBytes: g.weightBytes })) };
  } finally {
    source.close();
  }
}

async function predictCommand(args: CliArgs, io: CliIo, printer: ProgressPrinter, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const progress = printer.onEvent;
  const inputs = await collectInputs(args, { signal, onDecoded: (done, total) => progress({ status: 'decode', done, total }) });
  const model = await loadCliModel(args, { progress, signal });
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
      signal,
    });
    printer.finish();
    const files = await prediction.export({
      dir: args.exportDir,
      formats: args.exportFormat,
      confThreshPercentile: args.confThreshPercentile,
      numMaxPoints: args.numMaxPoints,
      showCameras: args.showCameras,
      imageNames: inputs.names,
      originalSizes: inputs.sizes,
      gsVideo: {
        trajectory: args.gsTrajectory,
        quality: args.gsVideoQuality,
        renderSize: args.renderHw,
        onProgress: (g) => progress({ status: 'gs_video', ...g }),
      },
      signal,
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
 * Runs the `da3` CLI. Exit codes: 0 success, 1 runtime error (one line `da3: error: …` on stderr,
 * more with `--verbose`), 2 usage error (no command, unknown flag or bad value — reported before
 * any model is loaded), 130 stopped by `signal` (Ctrl-C).
 */
export async function runCli(argv: readonly string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  let args: CliArgs | 'help' | 'version';
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    const noCommand = argv.length === 0 || (error as Error).message === 'no command given';
    io.stderr.write(noCommand ? `${USAGE}\n` : `da3: error: ${(error as Error).message}\nRun "da3 --help" for usage.\n`);
    return 2;
  }
  if (args === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args === 'version') {
    io.stdout.write(`${cliVersion()}\n`);
    return 0;
  }
  const printer = new ProgressPrinter(io, args.json);
  try {
    let summary: Record<string, unknown>;
    if (args.command === 'convert') summary = await convertCommand(args, io, printer.onEvent, signal);
    else if (args.command === 'stream') {
      const { streamCommand } = await import('./stream.js');
      summary = await streamCommand(args, printer.onEvent, signal);
      if (!args.json) io.stderr.write(`wrote ${(summary.files as string[]).length} file(s) and the per-frame results to ${resolve(args.exportDir)}\n`);
    }
    else if (args.command === 'backend' || args.command === 'gallery' || args.command === 'app') {
      const { serveCommand } = await import('./serve.js');
      return await serveCommand(args, io, printer.onEvent);
    } else summary = await predictCommand(args, io, printer, signal);
    printer.finish();
    if (args.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (error) {
    printer.finish();
    const kept = args.command === 'stream' ? (await import('./stream.js')).streamStoppedLine(args, error) : '';
    if (signal?.aborted) {
      io.stderr.write(args.command === 'stream' ? `da3: stopped\n${kept}` : 'da3: stopped (nothing partial was written)\n');
      return 130;
    }
    io.stderr.write(errorLines(error, args.verbose) + kept);
    return 1;
  }
}

