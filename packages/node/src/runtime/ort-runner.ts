import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, availableParallelism, platform } from 'node:os';
import { dirname, join } from 'node:path';
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
      session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
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

function tensorType(data: TensorElements): 'float32' | 'int32' | 'int64' | 'uint8' {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'uint8';
}
