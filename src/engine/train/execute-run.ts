import * as tf from '@tensorflow/tfjs'
import { mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { EpochMetrics } from '../../shared/metrics'
import type { RunRecord } from '../../shared/project'
import type { TrainEvent } from '../../shared/train-request'
import { selectBackend } from '../backend/select-backend'
import { prepareTrainingData } from '../data/prepare-training-data'
import { writeJsonAtomic } from '../project/atomic-files'
import { appendMetrics, truncateMetrics } from '../project/metrics-log'
import { METRICS_FILE, RUN_FILE } from '../project/project-store'
import { copyCheckpoint, copyWeights, loadCheckpoint, loadOptimizerInto, readCheckpointMeta, saveCheckpoint, type CheckpointMeta } from '../models/checkpoint'
import { buildInitialModel } from '../models/initial-model'
import { trainWorkerCount } from '../backend/worker-count'
import type { TrainData } from '../data/train-data'
import { createOptimizer, train } from './trainer'

export interface ExecuteOptions {
  /** Folder of the source run (transfers): its `best/` weights are copied. */
  sourceDir?: string
  /** Continue from `last/` when the run was interrupted (the default). */
  resume?: boolean
  signal?: AbortSignal
  /** Extra fields for run.json (e.g. executor, node). */
  annotate?: Record<string, unknown>
}

/**
 * Runs one planned run in its folder: a base model from scratch, or a transfer (layers 1…n from the
 * source's best weights, frozen or not). Writes `run.json`, `metrics.jsonl`, `best/` and `last/`.
 * An interrupted run (status running/interrupted with a `last/`) continues from its last completed
 * epoch with its optimizer state; `metrics.jsonl` then holds every epoch exactly once.
 *
 * Crash safety rests on the order of writes at an epoch's end: `last/` (which carries the epoch's
 * metrics), then `best/`, then the metrics line. Whatever dies between them, resume can rebuild the rest.
 */
export async function executeRun(dir: string, planned: RunRecord, emit: (event: TrainEvent) => void, options: ExecuteOptions = {}): Promise<RunRecord> {
  await mkdir(dir, { recursive: true })
  const backend = await selectBackend()
  const config = planned.config
  let record: RunRecord = { ...planned, ...options.annotate, status: 'running', backend: backend.backend, device: backend.adapter ? `${backend.device} · ${backend.adapter.description}` : backend.device, startedAt: planned.startedAt ?? new Date().toISOString(), error: null }
  const save = (): Promise<void> => writeJsonAtomic(join(dir, RUN_FILE), record)
  await save()

  let model: tf.LayersModel | undefined
  try {
    emit({ type: 'status', phase: 'loading-data', message: `loading ${planned.dataset}${planned.classes.length > 0 ? ` (${planned.classes.join(', ')})` : ''}` })
    // An empty class list means every class of the dataset.
    const classes = planned.classes.length > 0 ? planned.classes : undefined
    const { data, notes } = await prepareTrainingData(planned.dataset, classes, config, (p) => emit({ type: 'data-progress', ...p }))
    for (const note of notes) emit({ type: 'status', phase: 'loading-data', message: note })
    record = { ...record, classes: data.classNames, notes }

    emit({ type: 'status', phase: 'building-model', message: describeRun(planned) })
    model = await buildInitialModel(planned, { numClasses: data.classNames.length, sourceDir: options.sourceDir })

    const metricsFile = join(dir, METRICS_FILE)
    const optimizer = createOptimizer(config)
    const resumeFrom = options.resume === false ? undefined : await restoreProgress(dir, model, optimizer, metricsFile)
    if (!resumeFrom) await truncateMetrics(metricsFile, 0)
    else emit({ type: 'status', phase: 'training', message: `resuming after epoch ${resumeFrom.completedEpochs}` })

    // Decided here, once, so the message says what train() will do.
    const workers = trainWorkerCount(backend.backend, config.batchSize)
    emit({ type: 'status', phase: 'training', message: `training on ${backend.label}${workers > 1 ? ` · ${workers} worker threads` : ''}` })
    let pendingLines: Promise<void> = Promise.resolve()
    const previousSeconds = record.seconds
    const summary = await train({
      model,
      config,
      workers,
      data,
      optimizer,
      resumeFrom,
      signal: options.signal,
      callbacks: {
        onBatch(metrics) {
          emit({ type: 'batch', metrics })
          if (metrics.logged) pendingLines = pendingLines.then(() => appendMetrics(metricsFile, metrics))
        },
        async onEpoch(metrics, trained, opt) {
          await pendingLines
          const meta = checkpointMeta(config, data, metrics)
          await saveCheckpoint(join(dir, 'last'), trained, meta, opt)
          if (metrics.best) await saveCheckpoint(join(dir, 'best'), trained, meta)
          await appendMetrics(metricsFile, metrics)
          record = { ...record, epochs: metrics.epoch, ...(metrics.best ? { bestValAcc: metrics.valAcc, bestEpoch: metrics.epoch } : {}) }
          await save()
          emit({ type: 'epoch', metrics })
        }
      }
    })
    await pendingLines
    record = {
      ...record,
      status: summary.status,
      epochs: summary.epochs,
      bestValAcc: summary.bestValAcc,
      bestEpoch: summary.bestEpoch,
      testAcc: summary.testAcc,
      imagesPerSecond: summary.imagesPerSecond,
      seconds: previousSeconds + summary.seconds,
      finishedAt: new Date().toISOString()
    }
    await save()
    return record
  } catch (error) {
    record = { ...record, status: 'failed', error: (error as Error).message ?? String(error), finishedAt: new Date().toISOString() }
    await save()
    throw error
  } finally {
    model?.dispose()
  }
}

/**
 * Restores an interrupted run from `last/`: weights, optimizer state, and a metrics log cut back to
 * the last completed epoch (re-adding that epoch's line if the crash came before it was written).
 * Returns undefined when there is nothing to resume.
 */
async function restoreProgress(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  metricsFile: string
): Promise<{ completedEpochs: number; bestValAcc: number | null; bestEpoch: number | null } | undefined> {
  const lastDir = join(dir, 'last')
  if (!existsSync(join(lastDir, 'model.json'))) return undefined
  const last = await loadCheckpoint(lastDir)
  try {
    copyWeights(last.model, model)
  } finally {
    last.model.dispose()
  }
  await loadOptimizerInto(lastDir, optimizer)
  const epoch = last.meta.epoch
  const kept = await truncateMetrics(metricsFile, epoch)
  const epochLines = kept.filter((r) => r.type === 'epoch')
  if (!epochLines.some((r) => r.epoch === epoch) && last.meta.epochMetrics) {
    await appendMetrics(metricsFile, last.meta.epochMetrics)
    epochLines.push(last.meta.epochMetrics)
  }
  let best: EpochMetrics | undefined
  for (const line of epochLines) if (line.type === 'epoch' && line.valAcc !== null && (!best || line.valAcc > (best.valAcc ?? -1))) best = line
  // Died between writing last/ and best/: the best epoch is the last one, so last/ holds its weights.
  if (best && best.epoch === epoch && (await readCheckpointMeta(join(dir, 'best')).catch(() => null))?.epoch !== epoch) {
    await copyCheckpoint(lastDir, join(dir, 'best'))
  }
  return { completedEpochs: epoch, bestValAcc: best?.valAcc ?? null, bestEpoch: best?.epoch ?? null }
}

function checkpointMeta(config: RunRecord['config'], data: TrainData, metrics: EpochMetrics): CheckpointMeta {
  return {
    arch: config.arch,
    width: config.width,
    inputSize: config.inputSize,
    classNames: data.classNames,
    normalization: { mean: [...data.normalization.mean], std: [...data.normalization.std] },
    epoch: metrics.epoch,
    valAcc: metrics.valAcc,
    epochMetrics: metrics
  }
}

/** One line for the UI and the progress bar: "AnB n=3 A→B" or "base B". */
export function describeRun(run: Pick<RunRecord, 'kind' | 'variant' | 'n' | 'from' | 'to'>): string {
  return run.kind === 'base' ? `base ${run.to}` : `${run.variant} n=${run.n} ${run.from}→${run.to}`
}
