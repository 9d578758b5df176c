import { join, resolve } from 'node:path'
import { resolveTrainConfig } from '../../shared/train-config'
import { planSingleRun } from '../project/single-run'
import type { RunRecord } from '../../shared/project'
import type { TrainEvent, TrainOutcome, TrainRequest } from '../../shared/train-request'
import { currentBackend } from '../backend/select-backend'
import { outcomeOf } from '../project/run-record'
import { executeRun } from './execute-run'

/**
 * Trains one model from scratch into an output folder (the `train` command, and the UI's single
 * runs): a base run outside any project, with the same folder layout as a project's run.
 */
export async function runTraining(request: TrainRequest, emit: (event: TrainEvent) => void, signal?: AbortSignal): Promise<TrainOutcome> {
  const config = resolveTrainConfig(request.config as Record<string, unknown>)
  const outDir = resolve(request.outDir)
  const planned: RunRecord = { ...planSingleRun({ ...request, config }), id: 'train', name: undefined }
  const record = await executeRun(outDir, planned, emit, { signal, resume: false })
  // The CLI reports the backend even for a run that stopped before recording one.
  const backend = currentBackend()
  return { ...outcomeOf(record, join(outDir, 'best')), backend: backend?.backend ?? record.backend ?? 'unknown', device: backend?.device ?? record.device ?? 'unknown' }
}
