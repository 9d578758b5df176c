import { readFile } from 'node:fs/promises'
import type { RunRecord } from '../../shared/project'
import type { TrainEvent } from '../../shared/train-request'
import { readRun, writeRun } from '../project/project-store'
import { describeLockOwner } from '../project/project-lock'
import { withRunLock } from '../project/run-lock'
import { trainPlannedRecord } from '../train/run-planned'
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

/** How long a task waits for a run that another process holds (ms): past a dead holder's 2-minute silence. */
export const TASK_LOCK_WAIT_MS = 180_000

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
 * later task continue it. Errors (a missing source run, a training failure) propagate. The run's lock is
 * held throughout; a run another live process trains is waited for (see TASK_LOCK_WAIT_MS), then refused.
 * @throws RunBusyError when another process still trains the run after the wait
 */
export async function runSlurmTask(
  projectDir: string,
  runId: string,
  emit: (event: TrainEvent) => void,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
  options: { lockWaitMs?: number } = {}
): Promise<TaskResult> {
  const waitMs = options.lockWaitMs ?? TASK_LOCK_WAIT_MS
  const first = await readRun(projectDir, runId)
  if (first.status === 'done') return { record: first, exitCode: 0 }
  // Under the run's lock from the first read to the last write, so no other process trains it meanwhile.
  return withRunLock(projectDir, runId, async () => {
    const before = await readRun(projectDir, runId)
    if (before.status === 'done') return { record: before, exitCode: 0 }
    let record = await trainPlannedRecord(projectDir, before, emit, signal, { annotate: { ...runAnnotation(before, env) } })
    if (record.status !== 'done' && signal.aborted) {
      record = { ...record, status: 'interrupted', error: `stopped by ${String(signal.reason ?? 'a signal')} after epoch ${record.epochs}; resume continues from there` }
      await writeRun(projectDir, record)
      return { record, exitCode: 143 }
    }
    return { record, exitCode: record.status === 'done' ? 0 : 1 }
  }, {
    // A holder elsewhere that died is recognised once its lock has gone silent (2 min); a live one keeps it.
    waitMs,
    onWait: (holder) => emit({ type: 'status', phase: 'loading-data', message: `run ${runId} is being trained by another process (${describeLockOwner(holder)}); waiting up to ${Math.ceil(waitMs / 1000)} s for it to end` })
  })
}
