import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { BackendName } from '../../../shared/backend'
import type { StepBatch, StepShape } from '../train-step'
import { abortCollective, Collective, createCollectiveBuffer, type CollectiveLayout } from './collective'
import { flatOffsets, forEachPiece } from './flat-ranges'
import { ShardBalance } from './shard-balance'
import { TRAIN_WORKER_ENTRY_ENV, type FromWorker, type ToWorker, type WeightData, type WorkerSetup } from './worker-protocol'
import { ENV } from '../../env'
import { BACKEND, heapF32 } from '../../backend/wasm-kernel-utils'
import type { WasmKernelSet } from '../../../shared/backend'

/** Trains batches; the local stepper runs in this thread, the data-parallel one over worker threads. */
/** What a step reports: the mean loss and the correct predictions over `images` images (this batch's, or
 * every batch's since the last read for a stepper that reads back only when asked). */
export interface StepResult {
  loss: number
  correct: number
  images: number
}

export interface Stepper {
  readonly workers: number
  /** On wasm, the set of the workbench's kernels each data-parallel worker runs (rank order); else absent. */
  readonly workerKernels?: readonly WasmKernelSet[]
  /** One SGD step. `read` false lets the single-thread stepper keep its loss in the backend (then `images` is 0). */
  step(batch: StepBatch, lr: number, read?: boolean): Promise<StepResult>
  /** Copies the trained weights and optimizer state into this thread's model and optimizer. */
  sync(): Promise<void>
  dispose(): Promise<void>
}

export interface DataParallelOptions {
  model: tf.LayersModel
  optimizer: tf.MomentumOptimizer
  shape: StepShape
  weightDecay: number
  workers: number
  backend: BackendName
  /** Values per slice in one round of the update (collective.ts); tests set it small to run many rounds. */
  roundValues?: number
}

/**
 * Starts one worker on the built entry (Electron sets its path), or on the TypeScript source through
 * tsx's loader (CLI, serve mode, tests) by way of tsx-worker-bootstrap.mjs.
 */
function startWorker(workerData: WorkerSetup): Worker {
  const env = { ...process.env, [ENV.wasmThreads]: '1' }
  const fromEnv = process.env[TRAIN_WORKER_ENTRY_ENV]
  if (fromEnv) return new Worker(fromEnv, { workerData, env })
  const source = fileURLToPath(new URL('./train-worker-entry.ts', import.meta.url))
  if (existsSync(source)) {
    const bootstrap = new URL('./tsx-worker-bootstrap.mjs', import.meta.url)
    return new Worker(bootstrap, { workerData: { ...workerData, tsEntry: pathToFileURL(source).href }, env })
  }
  const built = fileURLToPath(new URL('./train-worker-entry.js', import.meta.url))
  if (existsSync(built)) return new Worker(built, { workerData, env })
  throw new Error(`the training worker's entry was not found beside ${fileURLToPath(import.meta.url)}; set ${TRAIN_WORKER_ENTRY_ENV}`)
}

/** A tensor's values: on wasm a view of its memory (no copy; valid until the next allocation), else its data. */
function valuesOf(t: tf.Tensor): Float32Array {
  return tf.getBackend() === BACKEND ? heapF32(tf.backend() as BackendWasm, t) : (t.dataSync() as Float32Array)
}

/**
 * A tensor of these values in this thread's backend. Wasm copies them into its memory; the other
 * backends would keep the array itself, so they get a copy: the values may be shared memory that
 * the workers go on writing.
 */
function tensorOf(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === BACKEND ? values : values.slice(), shape, 'float32')
}

/**
 * A new float32 tensor's values, written in pieces before it becomes a tensor: on wasm straight into
 * its memory (`values()` is a fresh view each time: memory may grow between the pieces), elsewhere an array.
 */
function newValues(shape: number[]): { values(): Float32Array; tensor(): tf.Tensor; dispose(): void } {
  if (tf.getBackend() !== BACKEND) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1))
    return { values: () => values, tensor: () => tf.tensor(values, shape, 'float32'), dispose: () => undefined }
  }
  const backend = tf.backend() as BackendWasm
  const info = backend.makeOutput(shape, 'float32')
  return { values: () => heapF32(backend, info), tensor: () => tf.engine().makeTensorFromTensorInfo(info), dispose: () => backend.disposeData(info.dataId) }
}

/**
 * Sets a momentum optimizer's state. Its setWeights makes new accumulator variables without freeing
 * the old ones (and its dispose() would free its momentum scalar too), so those are freed here.
 */
async function replaceOptimizerState(optimizer: tf.MomentumOptimizer, state: WeightData[]): Promise<void> {
  const old = (optimizer as unknown as { accumulations: { variable: tf.Variable }[] }).accumulations ?? []
  tf.dispose(old.map((a) => a.variable))
  const tensors = state.map((w) => ({ name: w.name, tensor: tensorOf(w.data, w.shape) }))
  await optimizer.setWeights(tensors)
  // The new variables hold their own references.
  tf.dispose(tensors.map((t) => t.tensor))
}

/**
 * Starts `workers` threads, each with a replica of the model, and splits every batch between them,
 * in shares that follow each worker's measured speed (shard-balance.ts). The results equal training
 * the whole batch in one thread, within float rounding: gradients are summed, batch norm sees the
 * whole batch (models/synced-batch-norm.ts). The optimizer's momentum lives once, in shared memory,
 * each worker updating its own slice of it and of the weights (collective.ts).
 */
export async function createDataParallelStepper(options: DataParallelOptions): Promise<Stepper> {
  const { model, optimizer, workers } = options
  if (options.roundValues !== undefined && !(Number.isInteger(options.roundValues) && options.roundValues > 0)) throw new RangeError(`roundValues must be a positive integer, got ${options.roundValues}`)
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const layout: CollectiveLayout = { workers, gradientElements: variables.reduce((n, v) => n + v.size, 0), ...(options.roundValues ? { roundValues: options.roundValues } : {}) }
  const buffer = createCollectiveBuffer(layout)
  const velocityBuffer = new SharedArrayBuffer(4 * layout.gradientElements)
  const velocity = new Float32Array(velocityBuffer)
  const threads = Array.from({ length: workers }, (_, rank) => startWorker({ rank, buffer, layout, velocity: velocityBuffer, backend: options.backend }))
  // The optimizer's iteration count: the workers keep none (it is one number, the same for all).
  let iterations = 0
  // The exchange area, through which weights go to and from the workers between steps.
  const area = new Collective(buffer, layout, 0).area
  const weightOffsets = flatOffsets(model.weights.map((w) => w.read().size))

  const workerKernels: WasmKernelSet[] = []
  let failure: Error | undefined
  let disposed = false
  const exited = new Set<number>()
  const waiting = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>()
  const fail = (error: Error): void => {
    failure ??= error
    abortCollective(buffer)
    for (const w of waiting.values()) w.reject(failure)
    waiting.clear()
  }
  threads.forEach((thread, rank) => {
    thread.on('message', (message: FromWorker) => {
      // A worker stopped by another's failure waits for that failure's own report, which says why.
      if (message.type === 'error' && message.byPeer) return
      const pending = waiting.get(rank)
      waiting.delete(rank)
      if (message.type === 'error') fail(new Error(`training worker ${rank}: ${message.message}`))
      else pending?.resolve(message)
    })
    thread.on('error', (error) => fail(new Error(`training worker ${rank} crashed: ${error.message}`)))
    thread.on('exit', (code) => {
      exited.add(rank)
      if (!disposed) fail(new Error(`training worker ${rank} exited (code ${code})`))
    })
  })
  /** Sends one message to a worker and waits for its answer (one outstanding message per worker). */
  const ask = (rank: number, message: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> => {
    if (failure) return Promise.reject(failure)
    return new Promise((resolve, reject) => {
      waiting.set(rank, { resolve, reject })
      ;(threads[rank] as Worker).postMessage(message, transfer)
    })
  }
  const dispose = async (): Promise<void> => {
    if (disposed) return
    disposed = true
    // Ask each worker to exit (it prints its profile if asked to); one that does not is terminated.
    await Promise.all(
      threads.map(async (thread, rank) => {
        if (exited.has(rank)) return
        const gone = new Promise<void>((resolve) => thread.once('exit', () => resolve()))
        if (!failure) thread.postMessage({ type: 'close' } satisfies ToWorker)
        const timer = setTimeout(() => void thread.terminate(), failure ? 0 : 5000)
        await gone
        clearTimeout(timer)
      })
    )
  }

  try {
    const config = optimizer.getConfig() as { momentum: number; useNesterov: boolean }
    const topology = model.toJSON(null, false) as object
    // tfjs's MomentumOptimizer state: the iteration count (a new tensor), then one accumulator per
    // trainable variable in order (none before its first step), copied into the shared momentum.
    const [iter, ...accumulators] = await optimizer.getWeights()
    iterations = iter ? ((await iter.tensor.data())[0] as number) : 0
    iter?.tensor.dispose()
    let offset = 0
    variables.forEach((v, i) => {
      const saved = accumulators[i]
      if (saved && saved.tensor.size !== v.size) throw new Error(`momentum of ${v.name} has ${saved.tensor.size} values, the weight ${v.size}`)
      if (saved) velocity.set(valuesOf(saved.tensor), offset)
      offset += v.size
    })
    const init = (): ToWorker => ({
      type: 'init',
      topology,
      weightCount: model.weights.length,
      momentum: config.momentum,
      useNesterov: config.useNesterov,
      size: options.shape.size,
      numClasses: options.shape.numClasses,
      weightDecay: options.weightDecay
    })
    const ready = await Promise.all(threads.map((_, rank) => ask(rank, init())))
    ready.forEach((reply) => {
      if (reply.type === 'ready' && reply.kernels) workerKernels.push(reply.kernels)
    })
    // The weights, an exchange area's worth at a time: each round in place before every worker loads it.
    const total = weightOffsets[weightOffsets.length - 1] as number
    for (let from = 0; from < total; from += area.length) {
      const to = Math.min(total, from + area.length)
      // Views of this thread's wasm memory: nothing allocates while they are in use.
      forEachPiece(weightOffsets, from, to, (i, at, n, flat) => area.set(valuesOf((model.weights[i] as tf.LayerVariable).read()).subarray(at, at + n), flat - from))
      await Promise.all(threads.map((_, rank) => ask(rank, { type: 'load-weights', from, to })))
    }
  } catch (error) {
    await dispose()
    throw error
  }

  const balance = new ShardBalance(workers)
  const pixels = options.shape.size * options.shape.size * 3

  return {
    workers,
    ...(workerKernels.length > 0 ? { workerKernels } : {}),
    async step(batch, lr) {
      const shards = balance.bounds(batch.count)
      const replies = await Promise.all(
        threads.map((_, rank) => {
          let [start, end] = shards[rank] as [number, number]
          // Fewer images than workers: a stand-in image that weighs nothing keeps every worker in step.
          const weight: 0 | 1 = end > start ? 1 : 0
          if (weight === 0) [start, end] = [0, 1]
          const x = batch.x.slice(start * pixels, end * pixels)
          const labels = batch.labels.slice(start, end)
          return ask(rank, { type: 'step', x, labels, count: end - start, total: batch.count, weight, lr }, [x.buffer, labels.buffer])
        })
      )
      let loss = 0
      let correct = 0
      replies.forEach((reply, rank) => {
        if (reply.type !== 'stepped') throw new Error(`training worker answered ${reply.type} to a step`)
        loss += reply.loss
        correct += reply.correct
        const [start, end] = shards[rank] as [number, number]
        balance.record(rank, end - start, reply.busyMs)
      })
      iterations++
      return { loss, correct, images: batch.count }
    },
    async sync() {
      // Worker 0's weights through the exchange area: as many whole weights at a time as fit, one
      // larger than the area in pieces. Each new weight frees the one it replaces, so this thread's
      // wasm memory (which never shrinks) grows by the largest weight, not by a second copy of the
      // model, and no copy is left in JS.
      const read = async (from: number, to: number): Promise<void> => {
        const reply = await ask(0, { type: 'read-weights', from, to })
        if (reply.type !== 'ready') throw new Error(`training worker answered ${reply.type} to read-weights`)
      }
      const replace = (w: tf.LayerVariable, target: ReturnType<typeof newValues>): void => {
        const t = target.tensor()
        w.write(t)
        t.dispose()
      }
      const weights = model.weights
      for (let i = 0; i < weights.length; ) {
        const start = weightOffsets[i] as number
        let end = i + 1
        while (end < weights.length && (weightOffsets[end + 1] as number) - start <= area.length) end++
        if ((weightOffsets[end] as number) - start <= area.length) {
          await read(start, weightOffsets[end] as number)
          for (let k = i; k < end; k++) {
            const target = newValues(weights[k]!.shape as number[])
            target.values().set(area.subarray((weightOffsets[k] as number) - start, (weightOffsets[k + 1] as number) - start))
            replace(weights[k]!, target)
          }
          i = end
          continue
        }
        const size = (weightOffsets[i + 1] as number) - start
        const target = newValues(weights[i]!.shape as number[])
        try {
          for (let at = 0; at < size; at += area.length) {
            const n = Math.min(area.length, size - at)
            await read(start + at, start + at + n)
            target.values().set(area.subarray(0, n), at)
          }
        } catch (error) {
          target.dispose()
          throw error
        }
        replace(weights[i]!, target)
        i++
      }
      // The momentum straight from shared memory: the workers are idle between steps.
      let offset = 0
      const state: WeightData[] = [{ name: 'iter', shape: [], data: Float32Array.of(iterations) }]
      for (const v of variables) {
        state.push({ name: `${v.name}/momentum`, shape: v.shape, data: velocity.subarray(offset, offset + v.size) })
        offset += v.size
      }
      await replaceOptimizerState(optimizer, state)
    },
    dispose
  }
}
