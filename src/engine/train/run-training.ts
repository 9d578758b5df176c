import type * as tf from '@tensorflow/tfjs'
import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { EpochMetrics, MetricsRecord } from '../../shared/metrics'
import { resolveTrainConfig, type TrainConfig } from '../../shared/train-config'
import type { TrainEvent, TrainOutcome, TrainRequest } from '../../shared/train-request'
import { selectBackend } from '../backend/select-backend'
import { prepareTrainingData } from '../data/prepare-training-data'
import { buildVgg } from '../models/build-vgg'
import type { ArchId } from '../models/vgg-config'
import { writeJsonAtomic } from '../project/atomic-files'
import { saveCheckpoint, type CheckpointMeta } from './checkpoint'
import { train, type TrainData } from './trainer'

/**
 * Runs one training job end to end: backend, data, model, training, checkpoints (`best/` on every
 * new best validation accuracy, `last/` with optimizer state every epoch), `metrics.jsonl` and
 * `run.json` in the output folder. Reports through `emit`; the caller decides where events go.
 */
export async function runTraining(request: TrainRequest, emit: (event: TrainEvent) => void, signal?: AbortSignal): Promise<TrainOutcome> {
  const config = resolveTrainConfig(request.config as Record<string, unknown>)
  const outDir = resolve(request.outDir)
  await mkdir(outDir, { recursive: true })
  const backend = await selectBackend()
  const startedAt = new Date().toISOString()
  const runJson = (extra: Record<string, unknown>): Promise<void> =>
    writeJsonAtomic(join(outDir, 'run.json'), {
      kind: 'base',
      dataset: request.dataset,
      classes: request.classes ?? null,
      config,
      seed: config.seed,
      backend: backend.backend,
      device: backend.device,
      startedAt,
      ...extra
    })
  await runJson({ status: 'running' })

  emit({ type: 'status', phase: 'loading-data', message: `loading ${request.dataset}` })
  const prepared = await prepareTrainingData(request.dataset, request.classes, config, (p) => emit({ type: 'data-progress', ...p }))
  const { data } = prepared

  emit({ type: 'status', phase: 'building-model', message: `${config.arch} ×${config.width}, ${data.classNames.length} classes` })
  const model = buildVgg({
    arch: config.arch as ArchId,
    width: config.width,
    numClasses: data.classNames.length,
    inputSize: config.inputSize,
    dropout: config.dropout,
    seed: config.seed
  })
  const metricsFile = join(outDir, 'metrics.jsonl')
  await writeFile(metricsFile, '')
  const appendMetrics = (record: MetricsRecord): Promise<void> => appendFile(metricsFile, `${JSON.stringify(record)}\n`)
  let pendingBatchLines: Promise<void> = Promise.resolve()

  emit({ type: 'status', phase: 'training', message: `training on ${backend.label}` })
  try {
    const summary = await train({
      model,
      config,
      data,
      signal,
      callbacks: {
        onBatch(metrics) {
          emit({ type: 'batch', metrics })
          if (metrics.logged) pendingBatchLines = pendingBatchLines.then(() => appendMetrics(metrics))
        },
        async onEpoch(metrics, trained, optimizer) {
          await pendingBatchLines
          await appendMetrics(metrics)
          const meta = checkpointMeta(config, data, metrics)
          if (metrics.best) await saveCheckpoint(join(outDir, 'best'), trained, meta)
          await saveCheckpoint(join(outDir, 'last'), trained, meta, optimizer)
          emit({ type: 'epoch', metrics })
        }
      }
    })
    await pendingBatchLines
    const outcome: TrainOutcome = {
      ...summary,
      backend: backend.backend,
      device: backend.device,
      checkpoint: join(outDir, 'best'),
      notes: prepared.notes
    }
    await runJson({ ...summary, finishedAt: new Date().toISOString() })
    return outcome
  } catch (error) {
    await runJson({ status: 'failed', error: String((error as Error).message ?? error), finishedAt: new Date().toISOString() })
    throw error
  } finally {
    (model as tf.LayersModel).dispose()
  }
}

function checkpointMeta(config: TrainConfig, data: TrainData, metrics: EpochMetrics): CheckpointMeta {
  return {
    arch: config.arch,
    width: config.width,
    inputSize: config.inputSize,
    classNames: data.classNames,
    normalization: { mean: [...data.normalization.mean], std: [...data.normalization.std] },
    epoch: metrics.epoch,
    valAcc: metrics.valAcc
  }
}
