import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, availableParallelism, cpus, platform } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Da3Error, type Da3Runner, type TensorData, type TensorElements } from '@da3js/core';
import * as ort from 'onnxruntime-node';

/** Where the network runs: `auto` tries CUDA and falls back to the CPU, saying why. */
export type Device = 'auto' | 'cuda' | 'cpu';

/** Devices accepted by {@link createRunner}. */
export const DEVICES: readonly Device[] = Object.freeze(['auto', 'cuda', 'cpu']);

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  readonly device?: Device;
  /** CPU threads (default: all cores). */
  readonly threads?: number;
  /** Called once with the device actually used and, for a fallback, the reason. */
  readonly onDevice?: (info: DeviceInfo) => void;
  /**
   * CPU sessions: keep onnxruntime's optimised graph (fusions, NCHWc layouts, folded constants)
   * beside the model, keyed by the onnxruntime version and this CPU (see
   * {@link optimizedGraphPath}), and load it on later starts instead of optimising again
   * (default false; `DepthAnything3` turns it on for the graphs of its own cache). The copy is
   * specific to this machine kind; one that fails to load is removed and made again.
   */
  readonly cacheOptimizedGraph?: boolean;
}

/** The execution provider a session ended up on. */
export interface DeviceInfo {
  readonly device: 'cuda' | 'cpu';
  /** Why CUDA was not used (device `auto` only). */
  readonly fallbackReason?: string;
}

/** A runner plus what it runs on. */
export interface OrtRunner extends Da3Runner {
  readonly device: DeviceInfo;
  dispose(): Promise<void>;
}

function cudaHint(message: string): string {
  if (/providers_(shared|cuda)/.test(message)) {
    return 'onnxruntime-node was installed without its CUDA execution provider (reinstall with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 on a machine with network access)';
  }
  if (/libcudart|libcublas|libcudnn|cuda.*\.so/i.test(message)) return `CUDA 12 libraries not found (${message.split('\n')[0]}); install with ONNXRUNTIME_NODE_INSTALL_CUDA=v12`;
  if (/no .*device|cudaErrorNoDevice|no CUDA-capable/i.test(message)) return 'no CUDA GPU is visible';
  return message.split('\n')[0];
}

/**
 * Whether onnxruntime-node's CUDA execution provider library is installed (it is only downloaded
 * when installing with `ONNXRUNTIME_NODE_INSTALL_CUDA=v12`). Checked before probing so a CPU-only
 * install does not log a loader error on every start.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const bin = join(dirname(entry), '..', 'bin', 'napi-v6', platform(), arch());
    return existsSync(join(bin, platform() === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/**
 * Opens an onnxruntime-node session over an `.onnx` file (external data beside it is found by
 * onnxruntime) and adapts it to core's `Da3Runner`. `device: 'auto'` tries the CUDA execution
 * provider and falls back to the CPU with all cores, reporting why (`onDevice`).
 * @throws Da3Error `BAD_VALUE` for an unknown device, `IO` when the model cannot be loaded, and for
 *   `device: 'cuda'` when CUDA is unavailable (with the reason)
 */
export async function createRunner(modelPath: string, options: RunnerOptions = {}): Promise<OrtRunner> {
  const device = options.device ?? 'auto';
  if (!DEVICES.includes(device)) throw new Da3Error('BAD_VALUE', `createRunner: unknown device "${device}"; should be one of ${DEVICES.join(', ')}`);
  const threads = options.threads ?? availableParallelism();
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // No pre-planned memory pattern: with it the arena holds the first run's blocks and the
    // planned block at once (DA3-SMALL 1×504×336: peak RSS 321 → 279 MiB, run time unchanged).
    enableMemPattern: false,
  };
  let session: ort.InferenceSession | undefined;
  let info: DeviceInfo = { device: 'cpu' };
  if (device !== 'cpu' && !cudaProviderInstalled()) {
    const reason = cudaHint('providers_cuda library missing');
    if (device === 'cuda') throw new Da3Error('IO', `createRunner: the CUDA execution provider is not available: ${reason}`);
    info = { device: 'cpu', fallbackReason: reason };
  } else if (device !== 'cpu') {
    try {
      // Fatal-only logging for the probe: a missing CUDA provider is an expected outcome here.
      session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cuda'], logSeverityLevel: 4 });
      info = { device: 'cuda' };
    } catch (error) {
      const reason = cudaHint((error as Error).message);
      if (device === 'cuda') throw new Da3Error('IO', `createRunner: the CUDA execution provider is not available: ${reason}`, { cause: error });
      info = { device: 'cpu', fallbackReason: reason };
    }
  }
  if (!session) {
    try {
      session = options.cacheOptimizedGraph ? await cpuSessionWithOptimizedCache(modelPath, base) : await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
    } catch (error) {
      throw new Da3Error('IO', `createRunner: cannot load ${modelPath}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
  }
  options.onDevice?.(info);
  const s = session;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    device: info,
    run(feeds) {
      // One run at a time per session (onnxruntime sessions are not re-entrant across awaits).
      const next = queue.then(async () => {
        const f: Record<string, ort.Tensor> = {};
        for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor(tensorType(t.data), t.data, [...t.shape]);
        const out = await s.run(f);
        const res: Record<string, TensorData<TensorElements>> = {};
        for (const [k, t] of Object.entries(out)) res[k] = { data: t.data as TensorElements, shape: t.dims };
        return res;
      });
      queue = next.catch(() => undefined);
      return next;
    },
    dispose: () => s.release(),
  };
}

/** This CPU as far as onnxruntime's CPU graph optimisations depend on it: model and, on Linux, its feature flags. */
function cpuSignature(): string {
  let flags = '';
  try {
    flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux: the model name and architecture have to do
  }
  return `${platform()} ${arch()} ${cpus()[0]?.model ?? ''} ${flags}`;
}

/**
 * Where {@link createRunner} keeps the CPU-optimised copy of `modelPath` (`cacheOptimizedGraph`):
 * `<model>.ort-<digest>.onnx` (+ `.data`), the digest over the onnxruntime version and
 * `cpuSignature`, because the optimised graph holds layouts chosen for this CPU (NCHWc
 * block sizes follow AVX2 / AVX-512).
 */
export function optimizedGraphPath(modelPath: string): string {
  const key = createHash('sha256').update(`onnxruntime-node ${ort.env.versions?.node ?? '?'}\n${cpuSignature()}`).digest('hex').slice(0, 12);
  return `${modelPath.replace(/\.onnx$/, '')}.ort-${key}.onnx`;
}

/**
 * A CPU session over `modelPath` that reuses onnxruntime's optimised graph across starts: loads
 * the saved copy with optimisations off when there is one (DA3-SMALL: session start ~30% less
 * CPU time), else optimises as usual and saves the result (weights in a `.data` file beside it).
 * One process writes at a time (an exclusive lock file; a lock older than 10 minutes is stale);
 * the copy appears under its final name only once complete.
 */
async function cpuSessionWithOptimizedCache(modelPath: string, base: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const optimized = optimizedGraphPath(modelPath);
  const data = `${optimized}.data`;
  if (existsSync(optimized)) {
    try {
      return await ort.InferenceSession.create(optimized, { ...base, graphOptimizationLevel: 'disabled', executionProviders: ['cpu'] });
    } catch {
      rmSync(optimized, { force: true }); // unreadable or from another machine: make it again
      rmSync(data, { force: true });
    }
  }
  const lock = `${optimized}.lock`;
  let fd: number | undefined;
  try {
    if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { force: true });
    fd = openSync(lock, 'wx');
  } catch {
    fd = undefined; // another process is writing it (or the folder is read-only): just optimise
  }
  if (fd === undefined) return ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
  const partial = `${optimized}.partial`;
  try {
    const session = await ort.InferenceSession.create(modelPath, {
      ...base,
      executionProviders: ['cpu'],
      optimizedModelFilePath: partial,
      // Weights in a side file (as large graphs need); the name is the final one, the model is renamed into place last.
      extra: { session: { optimized_model_external_initializers_file_name: basename(data), optimized_model_external_initializers_min_size_in_bytes: '1024' } },
      logSeverityLevel: 3, // the "hardware specific optimisations" warning is what the cache key is for
    });
    try {
      if (existsSync(partial)) renameSync(partial, optimized);
    } catch {
      rmSync(partial, { force: true });
    }
    return session;
  } finally {
    closeSync(fd);
    rmSync(partial, { force: true });
    rmSync(lock, { force: true });
  }
}

function tensorType(data: TensorElements): 'float32' | 'int32' | 'int64' | 'uint8' {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'uint8';
}
