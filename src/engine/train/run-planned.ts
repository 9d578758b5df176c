import { join } from 'node:path'
import type { RunRecord } from '../../shared/project'
import type { TrainEvent, TrainOutcome } from '../../shared/train-request'
import { readRun, runDir } from '../project/project-store'
import { outcomeOf } from '../project/run-record'
import { withRunLock } from '../project/run-lock'
import { trainInFolder } from './train-in-folder'

/** What runPlanned may add: fields for run.json (a Slurm task records its executor, job and node). */
export interface RunPlannedOptions {
  annotate?: Record<string, unknown>
}

/**
 * Runs (or resumes) one planned run of a project, in its own folder only — the unit of work for a
 * local sweep, a Slurm array task and the UI alike. A run already done is returned as it is.
 * Every path that trains a project's run comes through here, and here the run's lock is taken: a run
 * that another live process trains is refused with a RunBusyError (nothing is written).
 * @throws RunBusyError when another process holds the run
 */
export async function runPlanned(
  projectDir: string,
  runId: string,
  emit: (event: TrainEvent) => void,
  signal?: AbortSignal,
  options: RunPlannedOptions = {}
): Promise<TrainOutcome> {
  await readRun(projectDir, runId) // a missing or unreadable run.json is an error naming the file, before any lock file is made
  return withRunLock(projectDir, runId, () => runPlannedHoldingLock(projectDir, runId, emit, signal, options))
}

/** {@link runPlanned} for a caller that already holds the run's lock (see withRunLock). */
export async function runPlannedHoldingLock(
  projectDir: string,
  runId: string,
  emit: (event: TrainEvent) => void,
  signal?: AbortSignal,
  options: RunPlannedOptions = {}
): Promise<TrainOutcome> {
  // Read under the lock: a process that held it before may just have finished the run.
  const record = await trainPlannedRecord(projectDir, await readRun(projectDir, runId), emit, signal, options)
  return outcomeOf(record, join(runDir(projectDir, runId), 'best'))
}

/**
 * Trains (or resumes) a run whose run.json the caller has just read under the run's lock, and returns
 * the record as it ended (as written to run.json); a run already done is returned as it is.
 */
export async function trainPlannedRecord(
  projectDir: string,
  record: RunRecord,
  emit: (event: TrainEvent) => void,
  signal?: AbortSignal,
  options: RunPlannedOptions = {}
): Promise<RunRecord> {
  if (record.status === 'done') return record
  const runId = record.id
  let sourceDir: string | undefined
  if (record.kind === 'transfer') {
    if (!record.sourceRunId) throw new Error(`run ${runId}: a transfer run without a source run`)
    const source = await readRun(projectDir, record.sourceRunId)
    if (source.status !== 'done') throw new Error(`run ${runId}: its source run ${source.id} is ${source.status}, not done`)
    sourceDir = runDir(projectDir, source.id)
  }
  return trainInFolder(runDir(projectDir, runId), record, emit, { sourceDir, signal, resume: true, annotate: options.annotate })
}
