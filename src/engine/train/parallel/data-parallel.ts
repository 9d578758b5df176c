import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { BackendName } from '../../../shared/backend'
import type { StepBatch, StepShape } from '../train-step'
import { abortCollective, createCollectiveBuffer, type CollectiveLayout } from './collective'
import { ShardBalance } from './shard-balance'
import { TRAIN_WORKER_ENTRY_ENV, type FromWorker, type ToWorker, type WeightData, type WorkerSetup } from './worker-protocol'
import { ENV } from '../../env'

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

async function weightData(named: { name: string; tensor: tf.Tensor }[]): Promise<WeightData[]> {
  return Promise.all(named.map(async ({ name, tensor }) => ({ name, shape: tensor.shape, data: Float32Array.from(await tensor.data()) })))
}

/**
 * Sets a momentum optimizer's state. Its setWeights makes new accumulator variables without freeing
 * the old ones (and its dispose() would free its momentum scalar too), so those are freed here.
 */
async function replaceOptimizerState(optimizer: tf.MomentumOptimizer, state: WeightData[]): Promise<void> {
  const old = (optimizer as unknown as { accumulations: { variable: tf.Variable }[] }).accumulations ?? []
  tf.dispose(old.map((a) => a.variable))
  const tensors = state.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape, 'float32') }))
  await optimizer.setWeights(tensors)
  // The new variables hold their own references.
  tf.dispose(tensors.map((t) => t.tensor))
}

/**
 * Starts `workers` threads, each with a replica of the model and optimizer, and splits every batch
 * between them, in shares that follow each worker's measured speed (shard-balance.ts). The results
 * equal training the whole batch in one thread, within float rounding:
 * gradients are summed, batch norm sees the whole batch (models/synced-batch-norm.ts).
 */
export async function createDataParallelStepper(options: DataParallelOptions): Promise<Stepper> {
  const { model, optimizer, workers } = options
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const layout: CollectiveLayout = { workers, gradientElements: variables.reduce((n, v) => n + v.size, 0) }
  const buffer = createCollectiveBuffer(layout)
  const threads = Array.from({ length: workers }, (_, rank) => startWorker({ rank, buffer, layout, backend: options.backend }))

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
    const weights = model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[], data: Float32Array.from(w.read().dataSync() as Float32Array) }))
    const named = await optimizer.getWeights()
    const optimizerWeights = await weightData(named)
    named[0]?.tensor.dispose()
    const init = (): ToWorker => ({
      type: 'init',
      topology,
      weights,
      optimizerWeights,
      variableNames: variables.map((v) => v.name),
      momentum: config.momentum,
      useNesterov: config.useNesterov,
      size: options.shape.size,
      numClasses: options.shape.numClasses,
      weightDecay: options.weightDecay
    })
    await Promise.all(threads.map((_, rank) => ask(rank, init())))
  } catch (error) {
    await dispose()
    throw error
  }

  const balance = new ShardBalance(workers)
  const pixels = options.shape.size * options.shape.size * 3

  return {
    workers,
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
      return { loss, correct, images: batch.count }
    },
    async sync() {
      const reply = await ask(0, { type: 'read-state' })
      if (reply.type !== 'state') throw new Error(`training worker answered ${reply.type} to read-state`)
      const values = reply.weights.map((w) => tf.tensor(w.data, w.shape, 'float32'))
      model.setWeights(values)
      tf.dispose(values)
      await replaceOptimizerState(optimizer, reply.optimizerWeights)
    },
    dispose
  }
}
