import { isActiveState, mergeTaskStates, parseSacct, parseScontrolJobs, parseSqueue, SACCT_FORMAT, SQUEUE_FORMAT, type TaskState } from './scheduler-state'
import type { SlurmRunner } from './slurm-commands'

/** What the scheduler knows about a project's array jobs. */
export interface SchedulerView {
  /** By `<arrayJobId>_<taskId>`. */
  tasks: Map<string, TaskState>
  /** False when squeue could not be asked (not installed here, controller down): `tasks` is then empty. */
  available: boolean
  /** Why it is unavailable, for the user. */
  note?: string
}

/**
 * Asks Slurm about the given array jobs: squeue for every task it still holds (any state), scontrol
 * for the exit codes of tasks that ended, sacct for jobs the controller has already forgotten (only
 * where accounting is set up; its absence is not an error).
 */
export async function queryScheduler(run: SlurmRunner, arrayJobIds: readonly string[], options: { history?: boolean } = {}): Promise<SchedulerView> {
  const ids = [...new Set(arrayJobIds)]
  if (ids.length === 0) return { tasks: new Map(), available: true }
  const squeue = await run('squeue', ['--noheader', '--array', '--states=all', `--jobs=${ids.join(',')}`, `--format=${SQUEUE_FORMAT}`])
  let live: TaskState[] = []
  if (squeue.code === 0) live = parseSqueue(squeue.stdout)
  // squeue refuses the whole query when every id has aged out of the controller: that just means "none".
  else if (!/Invalid job id/i.test(squeue.stderr)) {
    return { tasks: new Map(), available: false, note: squeue.missing ? 'squeue is not installed here: showing what the run folders say' : `squeue failed: ${squeue.stderr.trim()}` }
  }
  if (options.history === false) return { tasks: mergeTaskStates(live), available: true }

  const ended: TaskState[] = []
  for (const id of new Set(live.filter((t) => !isActiveState(t.state)).map((t) => t.arrayJobId))) {
    const result = await run('scontrol', ['--oneliner', 'show', 'job', id])
    if (result.code === 0) ended.push(...parseScontrolJobs(result.stdout))
  }
  const forgotten = ids.filter((id) => !live.some((t) => t.arrayJobId === id))
  let history: TaskState[] = []
  if (forgotten.length > 0) {
    const result = await run('sacct', ['--allocations', '--noheader', '--parsable2', `--format=${SACCT_FORMAT}`, `--jobs=${forgotten.join(',')}`])
    if (result.code === 0) history = parseSacct(result.stdout)
  }
  return { tasks: mergeTaskStates(live, ended, history), available: true }
}
