/**
 * Which tfjs backend and device the engine trains on: one definition for the engine (which picks it),
 * the contract (which reports it) and the UI (which shows it). Plain TypeScript: no Node, no tfjs.
 */

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'
/** In the order the engine tries them when nothing is forced (cpu only when forced). */
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu']

/**
 * Which of the workbench's own wasm kernels run (kernels.wat): "simd+fma", its build with fused
 * multiply-adds (relaxed SIMD); "simd", its plain WebAssembly SIMD build; "off", neither (turned off by
 * WORKBENCH_WASM_SIMD=0, or no wasm SIMD), so their JS and tfjs fallbacks run.
 */
export type WasmKernelSet = 'simd+fma' | 'simd' | 'off'

/** A WebGPU adapter as Dawn describes it. */
export interface GpuAdapterInfo {
  vendor: string
  architecture: string
  device: string
  /** e.g. "NVIDIA GeForce RTX 4090" or "SwiftShader Device (Subzero)". */
  description: string
  /** A CPU implementation of the API (SwiftShader, llvmpipe): right answers at CPU speed. */
  software: boolean
}

/** One backend the engine tried while choosing, and what came of it: doctor and the UI list these. */
export interface BackendAttempt {
  backend: BackendName
  chosen: boolean
  /** In words: why it was chosen, or why not ("no Vulkan driver found", "software adapter …"). */
  reason: string
  adapter?: GpuAdapterInfo
}

/** Why the engine is not training on a GPU, with what to do about it. */
export interface GpuProblem {
  code:
    | 'package-not-installed'
    | 'native-addon-missing'
    | 'native-load-failed'
    | 'no-cuda-runtime'
    | 'no-gpu-device'
    | 'webgpu-load-failed'
    | 'no-webgpu-adapter'
    | 'software-adapter'
    | 'webgpu-init-failed'
    | 'forced'
  message: string
  fix: string
}

/** What the engine trains on; recorded in every run.json and shown in the UI. */
export interface BackendInfo {
  backend: BackendName
  device: 'gpu' | 'cpu'
  /** Human-readable, e.g. "GPU · webgpu (NVIDIA GeForce RTX 4090)" or "CPU · wasm, 2 training threads". */
  label: string
  /** Threads training uses: data-parallel workers on the CPU backends (at the default batch size). */
  threads: number
  /** Threads of this process's own wasm instance (WORKBENCH_WASM_THREADS); 1 elsewhere. */
  wasmThreads?: number
  /** Backend wasm: which of the workbench's wasm kernels its training runs (doctor and the bench report it). */
  wasmKernels?: WasmKernelSet
  /** Set when no GPU is used: why, and what to do about it. */
  gpuProblem?: GpuProblem
  /** The WebGPU adapter training runs on (backend webgpu). */
  adapter?: GpuAdapterInfo
  /** Every backend tried, in order, with why it was or was not chosen. */
  attempts: BackendAttempt[]
  /** Anything else worth saying (e.g. that the pure-JS backend is too slow to train). */
  notes: string[]
}

/** An adapter in one line: "NVIDIA GeForce RTX 4090 (vendor nvidia, architecture ada) · software". */
export function describeAdapterLine(adapter: GpuAdapterInfo): string {
  const parts = [adapter.vendor && `vendor ${adapter.vendor}`, adapter.architecture && `architecture ${adapter.architecture}`, adapter.device && `device ${adapter.device}`].filter(Boolean)
  return `${adapter.description}${parts.length ? ` (${parts.join(', ')})` : ''}${adapter.software ? ' · software' : ''}`
}

/**
 * The backend choice as lines of text: what trains, every backend tried and why it was or was not
 * chosen, and without a GPU what to do. `cli doctor` prints it; the app's status bar shows it on hover.
 */
export function describeBackendChoice(info: BackendInfo): string[] {
  const lines = [`backend: ${info.backend}`, `device:  ${info.device} (${info.label})`, `threads: ${info.threads}`]
  if (info.adapter) lines.push(`adapter: ${describeAdapterLine(info.adapter)}`)
  if (info.wasmKernels) lines.push(`kernels: ${info.wasmKernels} (the workbench's wasm kernels)`)
  if (info.attempts?.length) lines.push('tried:')
  for (const attempt of info.attempts ?? []) {
    lines.push(`  ${attempt.chosen ? '✓' : '✗'} ${attempt.backend.padEnd(10)} ${attempt.chosen ? 'chosen: ' : ''}${attempt.reason}`)
    if (attempt.adapter && !attempt.chosen) lines.push(`    adapter: ${describeAdapterLine(attempt.adapter)}`)
  }
  if (info.gpuProblem) lines.push(`no GPU:  ${info.gpuProblem.message}`, `to fix:  ${info.gpuProblem.fix}`)
  for (const note of info.notes) lines.push(`note:    ${note}`)
  return lines
}
