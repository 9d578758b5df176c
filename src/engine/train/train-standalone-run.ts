import { join, resolve } from 'node:path'
import { resolveTrainConfig } from '../../shared/train-config'
import { planSingleRun } from '../project/single-run'
import type { RunRecord } from '../../shared/project'
import type { TrainEvent, TrainOutcome, TrainRequest } from '../../shared/train-request'
import { currentBackend } from '../backend/select-backend'
import { outcomeOf } from '../project/run-record'
import { trainInFolder } from './train-in-folder'

/**
 * Trains one model from scratch into an output folder, outside any project (the `train` command): a
 * base run with the same folder layout as a project's run, but no run lock and no project. The UI's
 * single runs are planned into a project (or the scratch folder) and trained through runPlanned.
 */
export async function trainStandaloneRun(request: TrainRequest, emit: (event: TrainEvent) => void, signal?: AbortSignal): Promise<TrainOutcome> {
  // The request crossed a process boundary: its overrides are checked here, once.
  const config = resolveTrainConfig(request.config)
  const outDir = resolve(request.outDir)
  const planned: RunRecord = { ...planSingleRun({ ...request, config }), id: 'train', name: undefined }
  const record = await trainInFolder(outDir, planned, emit, { signal, resume: false })
  // The CLI reports the backend even for a run that stopped before recording one.
  const backend = currentBackend()
  return { ...outcomeOf(record, join(outDir, 'best')), backend: backend?.backend ?? record.backend ?? 'unknown', device: backend?.device ?? record.device ?? 'unknown' }
}
