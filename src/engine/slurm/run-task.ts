import { readFile } from 'node:fs/promises'
import type { RunRecord } from '../../shared/project'
import type { TrainEvent } from '../../shared/train-request'
import { readRun, writeRun } from '../project/project-store'
import { runPlanned } from '../train/run-planned'
import { runAnnotation } from './task-identity'

/**
 * The run an array task runs: line `index + 1` of the run list (task ids count from 0).
 * @throws Error naming the file when the index is outside it
 */
export async function runIdForTask(runList: string, index: number): Promise<string> {
  const ids = (await readFile(runList, 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean)
  const id = ids[index]
  if (!Number.isInteger(index) || index < 0 || id === undefined) throw new Error(`${runList}: no run for task ${index} (the list has ${ids.length} runs, tasks 0…${ids.length - 1})`)
  return id
}

/** How a task ended, as run-one's exit code tells Slurm. */
export interface TaskResult {
  record: RunRecord
  /** 0 done; 143 stopped by a signal (the run is interrupted and resumable). */
  exitCode: number
}

/**
 * Runs one planned run as a Slurm task (or by hand): records executor, job and node in run.json,
 * trains or resumes, and when `signal` fires (Slurm's SIGTERM at a time limit, preemption or scancel)
 * stops after the current batch and marks the run `interrupted` — its `last/` checkpoint lets any
 * later task continue it. Errors (a missing source run, a training failure) propagate.
 */
export async function runSlurmTask(projectDir: string, runId: string, emit: (event: TrainEvent) => void, signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<TaskResult> {
  const before = await readRun(projectDir, runId)
  if (before.status === 'done') return { record: before, exitCode: 0 }
  await runPlanned(projectDir, runId, emit, signal, { annotate: { ...runAnnotation(before, env) } })
  let record = await readRun(projectDir, runId)
  if (record.status !== 'done' && signal.aborted) {
    record = { ...record, status: 'interrupted', error: `stopped by ${String(signal.reason ?? 'a signal')} after epoch ${record.epochs}; resume continues from there` }
    await writeRun(projectDir, record)
    return { record, exitCode: 143 }
  }
  return { record, exitCode: record.status === 'done' ? 0 : 1 }
}
