import * as tf from '@tensorflow/tfjs'
import { availableParallelism } from 'node:os'
import { BACKEND_NAMES, type BackendAttempt, type BackendInfo, type BackendName, type GpuAdapterInfo, type GpuProblem } from '../../shared/backend'
import { classifyImportError, explainCpuOnlyTensorflow } from './gpu-diagnosis'
import { ENV } from '../env'
import { startWebGpu } from './webgpu'
import { trainWorkerCount } from './worker-count'
import { installEarlyTapeRelease } from './early-tape-release'
import { installLightSaves } from './light-saves'
import { registerWasmConvGradients } from './wasm-conv-gradients'
import { registerWasmConvForward } from './wasm-conv-forward'
import { registerWasmIdentity } from './wasm-identity'
import { registerWasmMatMul } from './wasm-matmul'
import { registerBatchNormGradient } from './batch-norm-gradient'
import { registerReluGradient } from './relu-gradient'
import { registerWasmMaxPoolGrad } from './wasm-max-pool-grad'
import { registerWasmReductions } from './wasm-reductions'
import { MAX_WASM_THREADS, prepareWasmThreads, wasmThreadsCount } from './wasm-threads'
import { wasmKernelSet } from './simd/simd-kernels'

/** The batch size the reported training thread count assumes (the default; tiny batches use fewer). */
const TYPICAL_BATCH = 64

/**
 * The environment variable that sets the wasm backend's thread count (default 1: the single-threaded
 * SIMD build). More threads start wasm's threaded build (see wasm-threads.ts), but tfjs-wasm 4.22's
 * kernels run XNNPACK without its thread pool, so on 4.22 they add workers and no speed (measured:
 * a 3×3 convolution takes the same wall and CPU time with 2 threads as with 1).
 */
export const WASM_THREADS_ENV = ENV.wasmThreads

const BACKEND_ENV = ENV.backend

let selected: BackendInfo | undefined

/**
 * Picks and prepares the tfjs backend once per process, in this order: tfjs-node-gpu on a CUDA device;
 * WebGPU on a hardware adapter (any GPU with a Vulkan, Metal or D3D12 driver); tfjs-node's CPU build if
 * it loaded; wasm with the workbench's kernels. `WORKBENCH_BACKEND` (or `force`) picks one; a forced
 * backend that cannot start is an error, not a silent fallback. A software WebGPU adapter (SwiftShader,
 * llvmpipe) is used only when forced: it is for tests. Every backend tried is listed in `attempts`.
 */
export async function selectBackend(force?: BackendName): Promise<BackendInfo> {
  if (selected) return selected
  const wanted = force ?? parseForcedBackend(process.env[BACKEND_ENV])
  const attempts: BackendAttempt[] = []
  const skipped = (backend: BackendName): void => void attempts.push({ backend, chosen: false, reason: `not tried: ${BACKEND_ENV}=${wanted}` })
  let tensorflowCpu: BackendInfo | undefined
  let tensorflowProblem: GpuProblem | undefined
  let webgpuProblem: GpuProblem | undefined

  if (wanted === undefined || wanted === 'tensorflow') {
    const result = await tryTensorflow()
    if ('info' in result && (result.info.device === 'gpu' || wanted === 'tensorflow')) {
      return choose(result.info, attempts, result.info.device === 'gpu' ? 'a CUDA device works' : `forced by ${BACKEND_ENV}`)
    }
    if ('info' in result) {
      tensorflowCpu = result.info
      tensorflowProblem = result.info.gpuProblem
      attempts.push({ backend: 'tensorflow', chosen: false, reason: `loads, but only on the CPU: ${tensorflowProblem?.message ?? 'no GPU device'}` })
    } else {
      if (wanted === 'tensorflow') throw new Error(`${BACKEND_ENV}=tensorflow, but ${result.problem.message} ${result.problem.fix}`)
      tensorflowProblem = result.problem
      attempts.push({ backend: 'tensorflow', chosen: false, reason: result.problem.message })
    }
  } else skipped('tensorflow')

  if (wanted === undefined || wanted === 'webgpu') {
    const result = await startWebGpu({ allowSoftware: wanted === 'webgpu' })
    if (result.ok) return choose(webGpuInfo(result.adapter), attempts, result.adapter.software ? `forced by ${BACKEND_ENV} (a software adapter)` : 'a hardware adapter')
    if (wanted === 'webgpu') throw new Error(`${BACKEND_ENV}=webgpu, but ${result.problem.message} ${result.problem.fix}`)
    webgpuProblem = { code: result.problem.code, message: result.problem.message, fix: result.problem.fix }
    attempts.push({ backend: 'webgpu', chosen: false, reason: result.problem.message, adapter: result.problem.adapter })
  } else skipped('webgpu')

  const gpuProblem = wanted ? forcedProblem(wanted) : noGpuProblem(webgpuProblem, tensorflowProblem)
  if (tensorflowCpu) return choose({ ...tensorflowCpu, gpuProblem }, attempts, 'tfjs-node loaded (its CPU build beats wasm)')
  if (wanted === 'cpu') {
    await activate('cpu')
    const info: BackendInfo = {
      backend: 'cpu',
      device: 'cpu',
      label: 'CPU · cpu (pure JS)',
      threads: trainWorkerCount('cpu', TYPICAL_BATCH),
      gpuProblem,
      attempts: [],
      notes: ['The pure-JS cpu backend is far too slow to train convnets; use it only to check results.']
    }
    return choose(info, attempts, `forced by ${BACKEND_ENV}`)
  }
  const wasm = choose(await startWasm(gpuProblem), attempts, wanted ? `forced by ${BACKEND_ENV}` : "the CPU fallback, with the workbench's kernels")
  if (wanted === undefined) attempts.push({ backend: 'cpu', chosen: false, reason: 'only when forced: far too slow to train' })
  return wasm
}

function choose(info: BackendInfo, attempts: BackendAttempt[], reason: string): BackendInfo {
  installEarlyTapeRelease()
  installLightSaves()
  attempts.push({ backend: info.backend, chosen: true, reason, adapter: info.adapter })
  selected = { ...info, attempts }
  return selected
}

function webGpuInfo(adapter: GpuAdapterInfo): BackendInfo {
  const notes = adapter.software ? [`${adapter.description} is a software adapter: right answers at CPU speed, for tests only.`] : []
  return {
    backend: 'webgpu',
    device: adapter.software ? 'cpu' : 'gpu',
    label: adapter.software ? `CPU · webgpu on a software adapter (${adapter.description})` : `GPU · webgpu (${adapter.description})`,
    threads: 1,
    adapter,
    attempts: [],
    notes
  }
}

/** Without a GPU: the WebGPU path's reason first (the path for today's GPUs), tfjs-node-gpu's after it. */
function noGpuProblem(webgpu: GpuProblem | undefined, tensorflow: GpuProblem | undefined): GpuProblem | undefined {
  if (!webgpu) return tensorflow
  if (!tensorflow) return webgpu
  return { code: webgpu.code, message: `WebGPU: ${webgpu.message} tfjs-node-gpu: ${tensorflow.message}`, fix: webgpu.fix }
}

function forcedProblem(wanted: BackendName): GpuProblem | undefined {
  if (wanted !== 'wasm' && wanted !== 'cpu') return undefined
  return { code: 'forced', message: `${BACKEND_ENV}=${wanted} forces the CPU backend '${wanted}'.`, fix: `Unset ${BACKEND_ENV} to let the engine use a GPU.` }
}

/** wasm with the workbench's kernels: convolution gradients, batch norm, max-pool gradient, reductions. */
async function startWasm(gpuProblem: GpuProblem | undefined): Promise<BackendInfo> {
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
  registerWasmConvForward()
  registerWasmMatMul()
  registerBatchNormGradient()
  registerReluGradient()
  registerWasmReductions()
  registerWasmMaxPoolGrad()
  registerWasmIdentity()
  // Training runs data-parallel over worker threads, each with a single-threaded wasm instance.
  const training = trainWorkerCount('wasm', TYPICAL_BATCH)
  const label = `CPU · wasm, ${training} training thread${training === 1 ? '' : 's'}`
  const notes = threads > 1 ? [`wasm's threaded build runs with ${threads} threads in this process (evaluation); training workers use one each.`] : []
  return { backend: 'wasm', device: 'cpu', label, threads: training, wasmThreads: threads, wasmKernels: wasmKernelSet(), gpuProblem, attempts: [], notes }
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
  if (usingGpu) return { info: { backend: 'tensorflow', device: 'gpu', label: 'GPU · tensorflow', threads, attempts: [], notes: [] } }
  return {
    info: { backend: 'tensorflow', device: 'cpu', label: `CPU · tensorflow, ${threads} threads`, threads, gpuProblem: explainCpuOnlyTensorflow(), attempts: [], notes: [] }
  }
}
