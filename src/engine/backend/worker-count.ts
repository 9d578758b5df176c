import { availableParallelism } from 'node:os'
import type { BackendName } from '../../shared/backend'
import { ENV } from '../env'

/** `WORKBENCH_TRAIN_WORKERS`: how many worker threads share a batch (a number, or `auto`). */
export const TRAIN_WORKERS_ENV = ENV.trainWorkers
/** Below this many images per worker, the fixed cost of every op outweighs the split. */
const MIN_IMAGES_PER_WORKER = 8
const MAX_AUTO_WORKERS = 8

/**
 * How many workers train a batch. On the CPU backends (wasm runs one thread per instance) one per
 * core, at most 8 and at least 8 images each; one on tfjs-node (it threads, or uses the GPU, itself)
 * and on WebGPU.
 */
export function trainWorkerCount(backend: BackendName, batchSize: number, env: NodeJS.ProcessEnv = process.env): number {
  // WebGPU trains on the GPU in one thread: its tensors cannot be read synchronously, as the workers'
  // gradient exchange does, and more devices on one GPU would only compete.
  if (backend === 'webgpu') return 1
  const raw = env[TRAIN_WORKERS_ENV]?.trim()
  if (raw && raw !== 'auto') {
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`${TRAIN_WORKERS_ENV}=${raw}: expected a whole number from 1 to 64, or auto`)
    return n
  }
  if (backend === 'tensorflow') return 1
  return Math.max(1, Math.min(availableParallelism(), MAX_AUTO_WORKERS, Math.floor(batchSize / MIN_IMAGES_PER_WORKER)))
}
