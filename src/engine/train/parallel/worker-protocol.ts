import type { BackendName } from '../../../shared/backend'
import type { CollectiveLayout } from './collective'
import { ENV } from '../../env'

/**
 * Set by Electron main to the built worker entry (elsewhere the TypeScript source runs under tsx).
 * Here, not in data-parallel.ts, so that main can name it without loading tfjs.
 */
export const TRAIN_WORKER_ENTRY_ENV = ENV.trainWorkerEntry

/** A weight as it crosses threads: its values (transferred, not copied) and shape. */
export interface WeightData {
  name: string
  shape: number[]
  data: Float32Array
}

/** Fixed at the worker's start (its `workerData`). */
export interface WorkerSetup {
  rank: number
  buffer: SharedArrayBuffer
  layout: CollectiveLayout
  backend: BackendName
}

/** The coordinating thread → a training worker. */
export type ToWorker =
  | {
      type: 'init'
      /** The model's topology (`model.toJSON(null, false)`), trainable flags included. */
      topology: object
      /** Every weight of the model, in `model.weights` order. */
      weights: WeightData[]
      /** The optimizer's state (`optimizer.getWeights()`: iterations, then momentum accumulators). */
      optimizerWeights: WeightData[]
      /** The coordinator's names of the trainable variables (the optimizer state is named after them). */
      variableNames: string[]
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
  | { type: 'read-state' }
  /** Finish: the worker exits (after printing its profile, if asked for). */
  | { type: 'close' }

/** A training worker → the coordinating thread. */
export type FromWorker =
  | { type: 'ready' }
  /** `busyMs`: the forward and backward pass, less the time spent waiting for the other workers. */
  | { type: 'stepped'; loss: number; correct: number; busyMs: number }
  | { type: 'state'; weights: WeightData[]; optimizerWeights: WeightData[] }
  /** `byPeer`: this worker stopped because another failed first (whose own error says why). */
  | { type: 'error'; message: string; stack?: string; byPeer?: boolean }
