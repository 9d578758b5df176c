import * as tf from '@tensorflow/tfjs'
import { availableParallelism } from 'node:os'
import { classifyImportError, explainCpuOnlyTensorflow, type GpuProblem } from './gpu-diagnosis'
import { trainWorkerCount } from '../train/parallel/worker-count'
import { registerWasmConvGradients } from './wasm-conv-gradients'
import { registerWasmIdentity } from './wasm-identity'
import { registerWasmMatMul } from './wasm-matmul'
import { registerBatchNormGradient } from './batch-norm-gradient'
import { registerWasmMaxPoolGrad } from './wasm-max-pool-grad'
import { registerWasmReductions } from './wasm-reductions'
import { MAX_WASM_THREADS, prepareWasmThreads, wasmThreadsCount } from './wasm-threads'

export type BackendName = 'tensorflow' | 'wasm' | 'cpu'
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu']

/** What the engine trains on; recorded in every run.json and shown in the UI. */
export interface BackendInfo {
  backend: BackendName
  device: 'gpu' | 'cpu'
  /** Human-readable, e.g. "GPU · tensorflow" or "CPU · wasm, 2 training threads". */
  label: string
  /** Threads training uses: data-parallel workers on the CPU backends (at the default batch size). */
  threads: number
  /** Threads of this process's own wasm instance (WORKBENCH_WASM_THREADS); 1 elsewhere. */
  wasmThreads?: number
  /** Set when no GPU is used: why, and what to do about it. */
  gpuProblem?: GpuProblem
  /** Anything else worth saying (e.g. that the pure-JS backend is too slow to train). */
  notes: string[]
}

/** The environment variable that forces a backend. */
export const BACKEND_ENV = 'WORKBENCH_BACKEND'
/** The batch size the reported training thread count assumes (the default; tiny batches use fewer). */
const TYPICAL_BATCH = 64

/**
 * The environment variable that sets the wasm backend's thread count (default 1: the single-threaded
 * SIMD build). More threads start wasm's threaded build (see wasm-threads.ts), but tfjs-wasm 4.22's
 * kernels run XNNPACK without its thread pool, so on 4.22 they add workers and no speed (measured:
 * a 3×3 convolution takes the same wall and CPU time with 2 threads as with 1).
 */
export const WASM_THREADS_ENV = 'WORKBENCH_WASM_THREADS'

let selected: BackendInfo | undefined

/**
 * Picks and prepares the tfjs backend once per process: tfjs-node-gpu if it loads (GPU or CPU build),
 * otherwise wasm with the workbench's gradient kernels. `WORKBENCH_BACKEND` (or `force`) picks one;
 * a forced backend that cannot start is an error, not a silent fallback.
 */
export async function selectBackend(force?: BackendName): Promise<BackendInfo> {
  if (selected) return selected
  const wanted = force ?? parseForcedBackend(process.env[BACKEND_ENV])
  let gpuProblem: GpuProblem | undefined
  if (wanted === undefined || wanted === 'tensorflow') {
    const result = await tryTensorflow()
    if ('info' in result) return (selected = result.info)
    if (wanted === 'tensorflow') throw new Error(`${BACKEND_ENV}=tensorflow, but ${result.problem.message} ${result.problem.fix}`)
    gpuProblem = result.problem
  } else {
    gpuProblem = { code: 'forced', message: `${BACKEND_ENV}=${wanted} forces the CPU backend '${wanted}'.`, fix: `Unset ${BACKEND_ENV} to let the engine use a GPU.` }
  }
  if (wanted === 'cpu') {
    await activate('cpu')
    return (selected = {
      backend: 'cpu',
      device: 'cpu',
      label: 'CPU · cpu (pure JS)',
      threads: trainWorkerCount('cpu', TYPICAL_BATCH),
      gpuProblem,
      notes: ['The pure-JS cpu backend is far too slow to train convnets; use it only to check results.']
    })
  }
  await import('@tensorflow/tfjs-backend-wasm')
  const wantedThreads = parseWasmThreads(process.env[WASM_THREADS_ENV])
  const restore = prepareWasmThreads(wantedThreads)
  try {
    await activate('wasm')
  } finally {
    restore()
  }
  const threads = wasmThreadsCount()
  registerWasmConvGradients()
  registerWasmMatMul()
  registerBatchNormGradient()
  registerWasmReductions()
  registerWasmMaxPoolGrad()
  registerWasmIdentity()
  // Training runs data-parallel over worker threads, each with a single-threaded wasm instance.
  const training = trainWorkerCount('wasm', TYPICAL_BATCH)
  const label = `CPU · wasm, ${training} training thread${training === 1 ? '' : 's'}`
  const notes = threads > 1 ? [`wasm's threaded build runs with ${threads} threads in this process (evaluation); training workers use one each.`] : []
  return (selected = { backend: 'wasm', device: 'cpu', label, threads: training, wasmThreads: threads, gpuProblem, notes })
}

/** The backend chosen so far in this process, if any. */
export function currentBackend(): BackendInfo | undefined {
  return selected
}

function parseWasmThreads(value: string | undefined): number {
  if (value === undefined || value === '') return 1
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${WASM_THREADS_ENV}='${value}' is not a thread count; use a whole number ≥ 1`)
  return Math.min(n, MAX_WASM_THREADS)
}

function parseForcedBackend(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName
  throw new Error(`${BACKEND_ENV}='${value}' is not a backend; use one of ${BACKEND_NAMES.join(', ')}`)
}

async function activate(name: BackendName): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialize`)
  await tf.ready()
}

async function tryTensorflow(): Promise<{ info: BackendInfo } | { problem: GpuProblem }> {
  // Claim GPU memory as needed instead of all of it up front (libtensorflow's default).
  process.env['TF_FORCE_GPU_ALLOW_GROWTH'] ??= 'true'
  try {
    // A variable specifier keeps bundlers from resolving this optional native package at build time.
    const specifier = '@tensorflow/tfjs-node-gpu'
    await import(/* @vite-ignore */ specifier)
    await activate('tensorflow')
  } catch (error) {
    return { problem: classifyImportError(error) }
  }
  const usingGpu = Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice)
  const threads = availableParallelism()
  if (usingGpu) return { info: { backend: 'tensorflow', device: 'gpu', label: 'GPU · tensorflow', threads, notes: [] } }
  return {
    info: { backend: 'tensorflow', device: 'cpu', label: `CPU · tensorflow, ${threads} threads`, threads, gpuProblem: explainCpuOnlyTensorflow(), notes: [] }
  }
}
