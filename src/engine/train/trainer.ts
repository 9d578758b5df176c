import * as tf from '@tensorflow/tfjs'
import type { BatchMetrics, EpochMetrics, TrainSummary } from '../../shared/metrics'
import type { TrainConfig } from '../../shared/train-config'
import { makeBatch } from '../data/batches'
import type { TrainData } from '../data/train-data'
import { currentBackend } from '../backend/select-backend'
import { createRandom, deriveSeed, shuffleInPlace } from '../random'
import { evaluate } from './evaluate'
import { createSingleThreadStepper } from './single-thread-stepper'
import { createDataParallelStepper, type Stepper } from './parallel/data-parallel'
import { trainWorkerCount } from '../backend/worker-count'
import { learningRateAt } from './schedule'
import type { StepBatch, StepShape } from './train-step'

/** The trainer only calls these; it knows nothing of files, IPC or UI (minGPT's trainer). */
export interface TrainCallbacks {
  /** Every batch (cheap); `logged` marks the every-k rhythm. */
  onBatch?(metrics: BatchMetrics): void
  /** Every epoch, after validation. Awaited: a good place to save checkpoints. */
  onEpoch?(metrics: EpochMetrics, model: tf.LayersModel, optimizer: tf.Optimizer): void | Promise<void>
}

export interface TrainOptions {
  model: tf.LayersModel
  config: TrainConfig
  data: TrainData
  callbacks?: TrainCallbacks
  /** Cooperative cancel: checked before every batch; the run stops with its weights and metrics kept. */
  signal?: AbortSignal
  /** An optimizer with restored state (resume); by default a fresh SGD with momentum. Disposed at the end. */
  optimizer?: tf.MomentumOptimizer
  /** Resume after this many completed epochs, with the best validation result so far. */
  resumeFrom?: { completedEpochs: number; bestValAcc: number | null; bestEpoch: number | null }
  /** Worker threads sharing each batch; by default `trainWorkerCount` (one per core on the CPU backends). */
  workers?: number
}

/**
 * Trains a model with SGD (momentum, L2 weight decay on every trainable weight, as PyTorch's SGD),
 * the configured schedule and augmentation. Returns when done or cancelled.
 */
export async function train({ model, config, data, callbacks, signal, optimizer = createOptimizer(config), resumeFrom, workers }: TrainOptions): Promise<TrainSummary> {
  const numClasses = data.classNames.length
  const trainIndices = Int32Array.from(data.train.indices)
  const batchesPerEpoch = Math.ceil(trainIndices.length / config.batchSize)
  if (batchesPerEpoch === 0) throw new Error('no training images: check the classes and the per-class cap')
  const evalOptions = { size: data.size, normalization: data.normalization, batchSize: Math.max(config.batchSize, 256), numClasses }

  const runStart = performance.now()
  let trainSeconds = 0
  let trainedImages = 0
  let bestValAcc = resumeFrom?.bestValAcc ?? null
  let bestEpoch = resumeFrom?.bestEpoch ?? null
  let completedEpochs = resumeFrom?.completedEpochs ?? 0
  let status: TrainSummary['status'] = 'done'
  let stepper: Stepper | undefined
  // The last loss and accuracy read back: what a batch reports while the stepper keeps its figures in the backend.
  let last: { loss: number; acc: number } | undefined

  try {
    stepper = await createStepper({ model, optimizer, shape: { size: data.size, numClasses }, weightDecay: config.weightDecay, workers, batchSize: config.batchSize })
    for (let epoch = completedEpochs + 1; epoch <= config.epochs && status === 'done'; epoch++) {
      const epochStart = performance.now()
      // Per-epoch generators derived from the seed: a resumed run replays the same order and crops.
      shuffleInPlace(trainIndices, createRandom(deriveSeed(config.seed, `shuffle:${epoch}`)))
      const augmentRandom = createRandom(deriveSeed(config.seed, `augment:${epoch}`))
      let lossSum = 0
      let correctSum = 0
      let seen = 0
      // Images whose loss has been read back (on a GPU only at logged batches).
      let counted = 0
      let lr = config.lr
      const batchAt = (b: number): StepBatch =>
        makeBatch(data.train.set, trainIndices.subarray(b * config.batchSize, (b + 1) * config.batchSize), data.size, data.normalization, config.augment, augmentRandom)
      let next = batchAt(0)
      for (let b = 0; b < batchesPerEpoch; b++) {
        if (signal?.aborted) {
          status = 'cancelled'
          break
        }
        lr = learningRateAt(config, epoch, b / batchesPerEpoch)
        const batch = next
        const logged = (b + 1) % config.logEveryBatches === 0 || b + 1 === batchesPerEpoch
        // The run's first batch is read too, so every progress event has figures.
        const stepped = stepper.step(batch, lr, logged || last === undefined)
        // While worker threads (or the GPU) train on this batch, this thread makes the next (in the same
        // order, so the same random crops and flips). With one CPU thread the step has already run.
        if (b + 1 < batchesPerEpoch) next = batchAt(b + 1)
        const result = await stepped
        if (result.images > 0) {
          lossSum += result.loss * result.images
          correctSum += result.correct
          counted += result.images
          last = { loss: result.loss, acc: result.correct / result.images }
        }
        seen += batch.count
        const elapsed = (performance.now() - epochStart) / 1000
        const rate = seen / Math.max(elapsed, 1e-6)
        const imagesLeft = (config.epochs - epoch) * trainIndices.length + (trainIndices.length - seen)
        callbacks?.onBatch?.({
          type: 'batch',
          epoch,
          batch: b + 1,
          batchesPerEpoch,
          loss: last?.loss ?? NaN,
          acc: last?.acc ?? NaN,
          lr,
          imagesPerSecond: rate,
          etaSeconds: imagesLeft / rate,
          logged
        })
        // Yield to the event loop so cancel messages and progress I/O get through between batches.
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      // A cancelled epoch is not recorded: `last/` stays at the last whole epoch, so a resume redoes this
      // one from its start and every epoch appears in the metrics exactly once, complete.
      if (status === 'cancelled') break
      await stepper.sync()
      const trainTime = (performance.now() - epochStart) / 1000
      trainSeconds += trainTime
      trainedImages += seen
      const val = data.val && data.val.indices.length > 0 ? await evaluate(model, data.val.set, data.val.indices, evalOptions) : null
      const isBest = val !== null && (bestValAcc === null || val.acc > bestValAcc)
      if (isBest) {
        bestValAcc = val.acc
        bestEpoch = epoch
      }
      completedEpochs = epoch
      await callbacks?.onEpoch?.(
        {
          type: 'epoch',
          epoch,
          epochs: config.epochs,
          trainLoss: lossSum / counted,
          trainAcc: correctSum / counted,
          valLoss: val?.loss ?? null,
          valAcc: val?.acc ?? null,
          lr,
          imagesPerSecond: seen / trainTime,
          seconds: (performance.now() - epochStart) / 1000,
          best: isBest
        },
        model,
        optimizer
      )
    }
    // A cancelled epoch's batches count too, as they do in one thread.
    if (status === 'cancelled') await stepper.sync()
    const test = data.test && data.test.indices.length > 0 ? await evaluate(model, data.test.set, data.test.indices, evalOptions) : null
    return {
      status,
      epochs: completedEpochs,
      bestValAcc,
      bestEpoch,
      testAcc: test?.acc ?? null,
      imagesPerSecond: trainedImages / Math.max(trainSeconds, 1e-6),
      seconds: (performance.now() - runStart) / 1000
    }
  } finally {
    await stepper?.dispose()
    optimizer.dispose()
  }
}

/** This thread's stepper, or the data-parallel one when more than one worker is asked for or chosen. */
export async function createStepper(options: {
  model: tf.LayersModel
  optimizer: tf.MomentumOptimizer
  shape: StepShape
  weightDecay: number
  workers?: number
  batchSize?: number
}): Promise<Stepper> {
  const backend = currentBackend()?.backend ?? (tf.getBackend() as 'wasm' | 'cpu')
  const workers = options.workers ?? trainWorkerCount(backend, options.batchSize ?? 64)
  if (workers > 1) return createDataParallelStepper({ ...options, workers, backend })
  return createSingleThreadStepper(options)
}

/** SGD with momentum as the config asks (PyTorch's form: v = μv + g; w −= lr·v). */
export function createOptimizer(config: TrainConfig): tf.MomentumOptimizer {
  return tf.train.momentum(config.lr, config.momentum)
}
