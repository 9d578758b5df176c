import { join } from 'node:path'
import type { TrainEvent, TrainOutcome } from '../../shared/train-request'
import { readRun, runDir } from '../project/project-store'
import { outcomeOf } from '../project/run-record'
import { executeRun } from './execute-run'

/**
 * Runs (or resumes) one planned run of a project, in its own folder only — the unit of work for a
 * local sweep, a Slurm array task and the UI alike. A run already done is returned as it is.
 * `options.annotate` adds fields to run.json (a Slurm task records its executor, job and node).
 */
export async function runPlanned(
  projectDir: string,
  runId: string,
  emit: (event: TrainEvent) => void,
  signal?: AbortSignal,
  options: { annotate?: Record<string, unknown> } = {}
): Promise<TrainOutcome> {
  let record = await readRun(projectDir, runId)
  if (record.status !== 'done') {
    let sourceDir: string | undefined
    if (record.kind === 'transfer') {
      if (!record.sourceRunId) throw new Error(`run ${runId}: a transfer run without a source run`)
      const source = await readRun(projectDir, record.sourceRunId)
      if (source.status !== 'done') throw new Error(`run ${runId}: its source run ${source.id} is ${source.status}, not done`)
      sourceDir = runDir(projectDir, source.id)
    }
    record = await executeRun(runDir(projectDir, runId), record, emit, { sourceDir, signal, resume: true, annotate: options.annotate })
  }
  return outcomeOf(record, join(runDir(projectDir, runId), 'best'))
}
