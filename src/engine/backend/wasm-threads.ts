import * as tf from '@tensorflow/tfjs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * Multithreaded wasm in Node. The wasm package ships a threaded SIMD build (a pthreadpool of web
 * workers for XNNPACK), but turns it off in Node (flag
 * WASM_HAS_MULTITHREAD_SUPPORT, tfjs issue 3830): its loader hands the worker script and the main
 * script to each worker as `blob:` URLs, which Node's `Worker` rejects (ERR_WORKER_PATH). The
 * emscripten worker script itself supports `worker_threads`. So, while the backend starts:
 *
 * - `worker_threads.Worker` is wrapped so that a `blob:` worker (only the wasm loader makes those)
 *   runs the package's worker script as code (`eval: true`) and is told to load the main script
 *   from its file in the package instead of from a Blob;
 * - the C++ side caps its thread pool at half the logical cores it is told of (it assumes
 *   hyper-threading), so `os.cpus()` reports twice the wanted count until the module has started.
 *
 * `os.cpus` is restored once the backend is ready; the Worker wrapper stays, since the pool may add
 * workers later, and it changes nothing for any other `Worker`.
 *
 * What it buys on tfjs-wasm 4.22: nothing yet. The pool starts, but the kernels do not hand their
 * work to it (tfjs's sources pass a null thread pool to xnn_run_operator in several of them): a 3×3
 * convolution takes the same wall and CPU time with 2 threads as with 1 (measured here), and a
 * VGG11-BN step is no faster. Hence select-backend.ts
 * starts one thread unless WORKBENCH_WASM_THREADS asks for more; a tfjs release whose kernels use
 * the pool needs no more than that variable.
 */

// Not named `require`: electron-vite's ESM output declares its own at the top of every chunk.
const requireHere = createRequire(import.meta.url)
/** The pool emscripten creates at start-up (PTHREAD_POOL_SIZE in the wasm build); more cannot help. */
export const MAX_WASM_THREADS = 8

/**
 * Makes the next initialisation of the wasm backend use its threaded build with `threads` threads.
 * Call after importing '@tensorflow/tfjs-backend-wasm' and before `tf.setBackend('wasm')`; call the
 * returned function when the backend is ready (or failed to start). `threads` ≤ 1 changes nothing.
 */
export function prepareWasmThreads(threads: number): () => void {
  if (!(threads > 1)) return () => undefined
  const count = Math.min(Math.floor(threads), MAX_WASM_THREADS)
  const packageDir = dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'))
  const out = join(packageDir, 'wasm-out')
  const mainScript = join(out, 'tfjs-backend-wasm-threaded-simd.js')
  // The worker script ships as a module exporting its text, in a template literal that turned the
  // script's escaped "\n" into real newlines; the loader escapes them again before use, as here.
  const { wasmWorkerContents } = requireHere(join(out, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string }
  const workerCode = wasmWorkerContents.replace(/\n/g, '\\n')

  const wasmPackage = requireHere('@tensorflow/tfjs-backend-wasm') as { setThreadsCount(n: number): void }
  wasmPackage.setThreadsCount(count)
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true)

  const workerThreads = requireHere('node:worker_threads') as { Worker: typeof import('node:worker_threads').Worker }
  const os = requireHere('node:os') as { cpus: () => import('node:os').CpuInfo[] }
  const NodeWorker = workerThreads.Worker
  class WasmPoolWorker extends NodeWorker {
    constructor(file: string | URL, options?: import('node:worker_threads').WorkerOptions) {
      const fromLoader = typeof file === 'string' && file.startsWith('blob:')
      super(fromLoader ? workerCode : file, fromLoader ? { ...options, eval: true } : options)
      if (fromLoader) {
        this.fromLoader = true
        this.unref()
      }
    }

    private fromLoader = false

    /**
     * emscripten refs a worker while it runs a pthread, and the pool's threads run for the life of
     * the process: that would keep Node from ever exiting. They only serve the main thread's calls.
     */
    override ref(): void {
      if (!this.fromLoader) super.ref()
    }

    override postMessage(message: unknown, transfer?: readonly import('node:worker_threads').TransferListItem[]): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null
      // The worker imports the main script with a synchronous file read: give it the file.
      if (m?.cmd === 'load' && typeof m.urlOrBlob !== 'string') message = { ...m, urlOrBlob: mainScript }
      super.postMessage(message, transfer)
    }
  }
  const cpus = os.cpus
  // The workers are unreferenced: this keeps the process alive while they load.
  const keepAlive = setInterval(() => undefined, 1 << 30)
  workerThreads.Worker = WasmPoolWorker
  os.cpus = () => {
    const real = cpus()
    return Array.from({ length: Math.max(real.length, 2 * count) }, (_, i) => real[i % real.length])
  }
  // The pool's workers (created during start-up, and more later if the pool runs dry) keep the
  // wrapper; only the wasm loader ever makes `blob:` workers, so others are unaffected meanwhile.
  return () => {
    os.cpus = cpus
    clearInterval(keepAlive)
  }
}

/** The number of threads the wasm backend runs with (1 for the single-threaded build). */
export function wasmThreadsCount(): number {
  const wasmPackage = requireHere('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number }
  try {
    return Math.max(1, wasmPackage.getThreadsCount())
  } catch {
    return 1
  }
}
