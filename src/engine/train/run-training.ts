import { join, resolve } from 'node:path'
import { resolveTrainConfig } from '../../shared/train-config'
import type { RunRecord } from '../../shared/project'
import type { TrainEvent, TrainOutcome, TrainRequest } from '../../shared/train-request'
import { currentBackend } from '../backend/select-backend'
import { executeRun } from './execute-run'

/**
 * Trains one model from scratch into an output folder (the `train` command, and the UI's single
 * runs): a base run outside any project, with the same folder layout as a project's run.
 */
export async function runTraining(request: TrainRequest, emit: (event: TrainEvent) => void, signal?: AbortSignal): Promise<TrainOutcome> {
  const config = resolveTrainConfig(request.config as Record<string, unknown>)
  const outDir = resolve(request.outDir)
  const planned: RunRecord = {
    id: 'train',
    kind: 'base',
    variant: null,
    n: null,
    sourceRunId: null,
    from: null,
    to: 'all',
    experimentId: null,
    dataset: request.dataset,
    classes: request.classes ?? [],
    config,
    seed: config.seed,
    backend: null,
    device: null,
    status: 'planned',
    bestValAcc: null,
    bestEpoch: null,
    epochs: 0,
    testAcc: null,
    imagesPerSecond: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    seconds: 0,
    error: null,
    notes: []
  }
  const record = await executeRun(outDir, planned, emit, { signal, resume: false })
  const backend = currentBackend()
  return {
    status: record.status === 'done' ? 'done' : 'cancelled',
    epochs: record.epochs,
    bestValAcc: record.bestValAcc,
    bestEpoch: record.bestEpoch,
    testAcc: record.testAcc,
    imagesPerSecond: record.imagesPerSecond ?? 0,
    seconds: record.seconds,
    backend: backend?.backend ?? record.backend ?? 'unknown',
    device: backend?.device ?? record.device ?? 'unknown',
    checkpoint: join(outDir, 'best'),
    notes: record.notes
  }
}
