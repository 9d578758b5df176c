import { queryScheduler } from './query-scheduler'
import { isActiveState } from './scheduler-state'
import { runOrThrow, runSlurmCommand, SlurmCommandError, type SlurmRunner } from './slurm-commands'
import { listSubmissions } from './submissions'

/** What `cancel` did. */
export interface CancelResult {
  /** Array job ids handed to scancel. */
  cancelled: string[]
  /** Queued or running tasks among them, at the time of the call. */
  activeTasks: number
}

/**
 * Cancels the project's Slurm work with scancel: every array job of its submissions that still has a
 * queued or running task. Running tasks get SIGTERM first, so their runs are saved as interrupted and
 * `resume` continues them; pending tasks simply never start.
 * @throws SlurmCommandError when squeue or scancel fails
 */
export async function cancelProject(projectDir: string, run: SlurmRunner = runSlurmCommand): Promise<CancelResult> {
  const ids = (await listSubmissions(projectDir)).flatMap((s) => s.arrays.map((a) => a.jobId)).filter((id): id is string => id !== null)
  const scheduler = await queryScheduler(run, ids, { history: false })
  if (!scheduler.available) throw new SlurmCommandError('squeue', { code: 1, stdout: '', stderr: scheduler.note ?? 'unavailable' })
  const active = [...scheduler.tasks.values()].filter((t) => isActiveState(t.state))
  const cancelled = [...new Set(active.map((t) => t.arrayJobId))]
  if (cancelled.length > 0) await runOrThrow(run, 'scancel', cancelled)
  return { cancelled, activeTasks: active.length }
}
