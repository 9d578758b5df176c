import type { WasmKernelSet } from '../../../shared/backend'
import type { BackendName } from '../../../shared/backend'
import type { CollectiveLayout } from './collective'
import { ENV } from '../../env'

/**
 * Set by Electron main to the built worker entry (elsewhere the TypeScript source runs under tsx).
 * Here, not in data-parallel.ts, so that main can name it without loading tfjs.
 */
export const TRAIN_WORKER_ENTRY_ENV = ENV.trainWorkerEntry

/** A weight's values and shape (the optimizer state the coordinator makes from shared memory). */
export interface WeightData {
  name: string
  shape: number[]
  data: Float32Array
}

/** Fixed at the worker's start (its `workerData`). */
export interface WorkerSetup {
  rank: number
  /** The collective's control words, small slots and gradient exchange (collective.ts). */
  buffer: SharedArrayBuffer
  layout: CollectiveLayout
  /**
   * The optimizer's momentum, one float32 per trainable value (flattened in the order of the
   * trainable weights): shared by the workers, each updating its own slice, and read by the
   * coordinator at sync without a message.
   */
  velocity: SharedArrayBuffer
  backend: BackendName
}

/** The coordinating thread → a training worker. */
export type ToWorker =
  | {
      type: 'init'
      /** The model's topology (`model.toJSON(null, false)`), trainable flags included. */
      topology: object
      /** How many weights the model has: they come in `load-weights` messages (the momentum is in the setup's `velocity`). */
      weightCount: number
      momentum: number
      useNesterov: boolean
      size: number
      numClasses: number
      weightDecay: number
    }
  | {
      type: 'step'
      x: Float32Array
      labels: Int32Array
      count: number
      /** Images in the whole batch, over every worker. */
      total: number
      /** 0 for a stand-in shard (the batch has fewer images than workers): it adds nothing. */
      weight: 0 | 1
      lr: number
    }
  /**
   * Weights pass through the collective's exchange area (free between steps), never in a message, so
   * no copy of the model is left for the garbage collector (at width 1, 107 MB per worker). Values
   * [from, to) of every weight laid end to end (`model.weights` order) go at the area's start:
   * `load-weights` (after `init`, before the first step) copies them into the worker's weights,
   * `read-weights` (between steps) copies the worker's there. Both are answered by `ready`.
   */
  | { type: 'load-weights'; from: number; to: number }
  | { type: 'read-weights'; from: number; to: number }
  /** Finish: the worker exits (after printing its profile, if asked for). */
  | { type: 'close' }

/** A training worker → the coordinating thread. */
export type FromWorker =
  /** `kernels`: after `init`, the set of the workbench's wasm kernels this worker runs (simd-kernels.ts). */
  | { type: 'ready'; kernels?: WasmKernelSet }
  /** `busyMs`: the forward and backward pass, less the time spent waiting for the other workers. */
  | { type: 'stepped'; loss: number; correct: number; busyMs: number }
  /** `byPeer`: this worker stopped because another failed first (whose own error says why). */
  | { type: 'error'; message: string; stack?: string; byPeer?: boolean }
