/**
 * Every environment variable the engine reads, with its meaning and default: the one list the code
 * imports its names from and the README's table mirrors. Names only (and a reader); each module
 * parses its own values, where the errors can name what is wrong.
 */

export const ENV = {
  /** Forces a backend: tensorflow, webgpu, wasm or cpu (a forced one that cannot start is an error). */
  backend: 'WORKBENCH_BACKEND',
  /** Threads of the wasm backend in the trainer's own thread (default 1: the single-threaded SIMD build). */
  wasmThreads: 'WORKBENCH_WASM_THREADS',
  /** `0` turns the workbench's wasm SIMD kernels off, for their JS and tfjs fallbacks (default on). */
  wasmSimd: 'WORKBENCH_WASM_SIMD',
  /** `0` keeps to the SIMD kernels without fused multiply-adds where the runtime has relaxed SIMD (default on). */
  wasmFma: 'WORKBENCH_WASM_FMA',
  /** Data-parallel training threads on the CPU backends: a number or `auto` (default: one per core, ≤ 8). */
  trainWorkers: 'WORKBENCH_TRAIN_WORKERS',
  /** `1`: each training worker prints where its step time went when it closes (default off). */
  profileWorkers: 'WORKBENCH_PROFILE_WORKERS',
  /** The data folder for downloaded and imported datasets (default: the platform's user data folder). */
  dataDir: 'WORKBENCH_DATA_DIR',
  /** Where the training worker's built entry is, when a bundler moved it (set by the app's main process). */
  trainWorkerEntry: 'WORKBENCH_TRAIN_WORKER_ENTRY'
} as const

/** The defaults as the README states them, by variable. */
export const ENV_DEFAULTS: Record<(typeof ENV)[keyof typeof ENV], string> = {
  WORKBENCH_BACKEND: 'automatic: tensorflow (CUDA) → webgpu (hardware adapter) → wasm',
  WORKBENCH_WASM_THREADS: '1',
  WORKBENCH_WASM_SIMD: 'on',
  WORKBENCH_WASM_FMA: 'on where the runtime has relaxed SIMD',
  WORKBENCH_TRAIN_WORKERS: 'auto',
  WORKBENCH_PROFILE_WORKERS: 'off',
  WORKBENCH_DATA_DIR: 'the platform user data folder',
  WORKBENCH_TRAIN_WORKER_ENTRY: 'beside the trainer'
}
