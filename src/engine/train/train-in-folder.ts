import * as tf from '@tensorflow/tfjs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { EpochMetrics } from '../../shared/metrics'
import type { RunHistoryEntry, RunRecord } from '../../shared/project'
import type { TrainEvent } from '../../shared/train-request'
import { selectBackend } from '../backend/select-backend'
import { prepareTrainingData } from '../data/prepare-training-data'
import { writeJsonAtomic } from '../project/atomic-files'
import { appendMetrics, truncateMetrics } from '../project/metrics-log'
import { METRICS_FILE, RUN_FILE } from '../project/project-store'
import { describeRun } from '../project/run-record'
import { checkpointProblem, copyCheckpoint, copyWeights, loadCheckpoint, loadOptimizerInto, MODEL_FILE, readCheckpointMeta, saveCheckpoint, weightsMismatch, type CheckpointMeta } from '../models/checkpoint'
import { buildInitialModel } from '../models/initial-model'
import { trainWorkerCount } from '../backend/worker-count'
import type { TrainData } from '../data/train-data'
import { createOptimizer, train } from './trainer'

export interface TrainInFolderOptions {
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
 * A damaged checkpoint never stops a resume: it falls back to another one, or restarts from scratch,
 * and says which (a status event and run.json's `history`; see restoreProgress).
 * Not an entry point: a project's run comes through runPlanned (which takes the run's lock), a run
 * outside any project through trainStandaloneRun.
 */
export async function trainInFolder(dir: string, planned: RunRecord, emit: (event: TrainEvent) => void, options: TrainInFolderOptions = {}): Promise<RunRecord> {
  await mkdir(dir, { recursive: true })
  const backend = await selectBackend()
  const config = planned.config
  let record: RunRecord = { ...planned, ...options.annotate, status: 'running', backend: backend.backend, device: backend.adapter ? `${backend.device} · ${backend.adapter.description}` : backend.device, ...(backend.wasmKernels ? { wasmKernels: backend.wasmKernels } : {}), startedAt: planned.startedAt ?? new Date().toISOString(), error: null }
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
    const restored = options.resume === false ? { optimizer: createOptimizer(config) } : await restoreProgress(dir, model, config, metricsFile)
    const { optimizer, resumeFrom, fallback } = restored
    if (fallback) {
      // Said where the user looks (the log, the app's status line) and kept in run.json's history.
      emit({ type: 'status', phase: 'training', message: fallback.message })
      record = {
        ...record,
        epochs: resumeFrom?.completedEpochs ?? 0,
        bestValAcc: resumeFrom?.bestValAcc ?? null,
        bestEpoch: resumeFrom?.bestEpoch ?? null,
        history: [...(record.history ?? []), { at: new Date().toISOString(), ...fallback }]
      }
      await save()
    }
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

/** Where a resumed run continues from. */
interface ResumePoint {
  completedEpochs: number
  bestValAcc: number | null
  bestEpoch: number | null
}

/** What restoreProgress did: the optimizer to train with, where to continue, and any fallback to report. */
interface Restored {
  optimizer: ReturnType<typeof createOptimizer>
  resumeFrom?: ResumePoint
  fallback?: { event: RunHistoryEntry['event']; message: string }
}

/** A checkpoint folder a run may continue from, most complete first. */
interface ResumeSource {
  dir: string
  label: string
  /** Whether it holds optimizer state (`last/` and its previous copy do; `best/` does not). */
  withOptimizer: boolean
}

/**
 * Restores an interrupted run: weights, optimizer state, and a metrics log cut back to the last
 * completed epoch (re-adding that epoch's line if the crash came before it was written).
 *
 * `last/` is the normal source. When it cannot be used — a truncated weights.bin, an empty
 * optimizer.bin, a garbled model.json — the run continues from the newest usable alternative: `last/`'s
 * weights with fresh optimizer state when only the optimizer files are bad, else `last.old/` (the epoch
 * before, left when a save was cut off between its renames) or `best/`, whichever is newer. With
 * nothing usable, it restarts from scratch. Either way `fallback` says what happened; a resume never
 * fails on a damaged checkpoint, so no run is left that no resume can finish. The damaged folder is
 * moved aside (`last.damaged`) for inspection. Returns no `resumeFrom` when there is nothing to resume.
 */
async function restoreProgress(dir: string, model: tf.LayersModel, config: RunRecord['config'], metricsFile: string): Promise<Restored> {
  const lastDir = join(dir, 'last')
  const bestDir = join(dir, 'best')
  const sources: ResumeSource[] = [
    { dir: lastDir, label: 'last/', withOptimizer: true },
    { dir: `${lastDir}.old`, label: 'last.old/ (the epoch before)', withOptimizer: true },
    { dir: bestDir, label: 'best/', withOptimizer: false }
  ]
  // A run that never finished an epoch has no checkpoint: a plain fresh start, nothing to say.
  if (!sources.some((source) => existsSync(source.dir))) return { optimizer: createOptimizer(config) }

  const problems: string[] = []
  let chosen: { source: ResumeSource; meta: CheckpointMeta; optimizer: Restored['optimizer']; optimizerProblem?: string } | undefined
  // last/ first; then the others, newest epoch first (a tie goes to the one with optimizer state).
  const order: ResumeSource[] = [sources[0] as ResumeSource]
  const others: { source: ResumeSource; epoch: number }[] = []
  // Kept so best/'s metadata is read once (the best-epoch check below needs it again).
  const metas = new Map<string, CheckpointMeta>()
  for (const source of sources.slice(1)) {
    if (!existsSync(source.dir)) continue
    const meta = await readCheckpointMeta(source.dir).catch((error: Error) => {
      problems.push(error.message)
      return undefined
    })
    if (meta) {
      metas.set(source.dir, meta)
      others.push({ source, epoch: meta.epoch })
    }
  }
  others.sort((a, b) => b.epoch - a.epoch || Number(b.source.withOptimizer) - Number(a.source.withOptimizer))
  order.push(...others.map((o) => o.source))
  for (const source of order) {
    if (!existsSync(source.dir)) {
      problems.push(`${source.dir}: missing`)
      continue
    }
    const weights = await loadWeightsInto(source.dir, model)
    if ('problem' in weights) {
      problems.push(weights.problem)
      continue
    }
    let optimizer = createOptimizer(config)
    let optimizerProblem: string | undefined
    if (source.withOptimizer) {
      try {
        await loadOptimizerInto(source.dir, optimizer)
      } catch (error) {
        // The weights are good: continue from them with fresh optimizer state (momentum builds up again).
        optimizerProblem = (error as Error).message
        optimizer.dispose()
        optimizer = createOptimizer(config)
      }
    }
    chosen = { source, meta: weights.meta, optimizer, optimizerProblem }
    break
  }

  if (!chosen) {
    await moveAside(lastDir)
    if (existsSync(bestDir)) await moveAside(bestDir)
    return {
      optimizer: createOptimizer(config),
      fallback: { event: 'restarted', message: `no usable checkpoint (${problems.join('; ')}); restarting the run from scratch (the damaged folders are kept as *.damaged)` }
    }
  }

  const { source, meta } = chosen
  const epoch = meta.epoch
  const kept = await truncateMetrics(metricsFile, epoch)
  const epochLines = kept.filter((r) => r.type === 'epoch')
  if (!epochLines.some((r) => r.epoch === epoch) && meta.epochMetrics) {
    await appendMetrics(metricsFile, meta.epochMetrics)
    epochLines.push(meta.epochMetrics)
  }
  let best: EpochMetrics | undefined
  for (const line of epochLines) if (line.type === 'epoch' && line.valAcc !== null && (!best || line.valAcc > (best.valAcc ?? -1))) best = line
  const notes: string[] = []
  if (source.dir !== bestDir && best) {
    // best/ is untouched since it was read above (it is not the source here).
    const bestMeta = metas.get(bestDir)
    const bestProblem = existsSync(bestDir) ? await checkpointProblem(bestDir) : undefined
    if (best.epoch === epoch && (bestMeta?.epoch !== epoch || bestProblem)) {
      // Died between writing last/ and best/: the best epoch is the last one, so its weights are here.
      await copyCheckpoint(source.dir, bestDir)
    } else if (bestProblem || !existsSync(bestDir)) {
      // The best epoch's weights are lost: best/ starts again from the epoch resumed from.
      const here = epochLines.find((r) => r.epoch === epoch)
      if (here) best = here
      await copyCheckpoint(source.dir, bestDir)
      notes.push(`best/ was unusable (${bestProblem ?? 'missing'}): it now holds epoch ${epoch}, and the best epoch is counted from there`)
    }
  }
  const resumeFrom = { completedEpochs: epoch, bestValAcc: best?.valAcc ?? null, bestEpoch: best?.epoch ?? null }
  let fallback: Restored['fallback']
  if (source.dir !== lastDir) {
    await moveAside(lastDir)
    fallback = {
      event: 'checkpoint-fallback',
      message: `the last/ checkpoint is unusable (${problems.join('; ')}); resuming after epoch ${epoch} from ${source.label}${chosen.optimizerProblem || !source.withOptimizer ? ' with fresh optimizer state' : ''}; later epochs are trained again (the damaged folder is kept as last.damaged)`
    }
  } else if (chosen.optimizerProblem) {
    fallback = { event: 'checkpoint-fallback', message: `${chosen.optimizerProblem}; resuming after epoch ${epoch} from last/'s weights with fresh optimizer state (momentum builds up again)` }
  }
  if (notes.length > 0) {
    const text = notes.join('; ')
    fallback = fallback ? { ...fallback, message: `${fallback.message}; ${text}` } : { event: 'checkpoint-fallback', message: text }
  }
  return { optimizer: chosen.optimizer, resumeFrom, fallback }
}

/**
 * Copies a checkpoint's weights into `model` if the checkpoint is whole and fits it; otherwise leaves
 * `model` untouched and says why (naming the file).
 */
async function loadWeightsInto(checkpointDir: string, model: tf.LayersModel): Promise<{ meta: CheckpointMeta } | { problem: string }> {
  let loaded
  try {
    loaded = await loadCheckpoint(checkpointDir)
  } catch (error) {
    return { problem: (error as Error).message }
  }
  try {
    const mismatch = weightsMismatch(loaded.model, model)
    if (mismatch) return { problem: `${join(checkpointDir, MODEL_FILE)}: does not fit this run's model (${mismatch})` }
    copyWeights(loaded.model, model)
    return { meta: loaded.meta }
  } finally {
    loaded.model.dispose()
  }
}

/** Moves a damaged checkpoint folder out of the way (replacing an earlier one), so no later resume trips on it. */
async function moveAside(folder: string): Promise<void> {
  if (!existsSync(folder)) return
  const aside = `${folder}.damaged`
  await rm(aside, { recursive: true, force: true })
  await rename(folder, aside)
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
