import { join } from 'node:path'
import type { ProjectStatus, RunStatusRow, SweepRunState } from '../../shared/cluster-status'
import type { MetricsRecord } from '../../shared/metrics'
import type { RunRecord } from '../../shared/project'
import { readMetrics } from '../project/metrics-log'
import { listRuns, METRICS_FILE, runDir } from '../project/project-store'
import { describeRun } from '../project/run-record'
import { queryScheduler } from './query-scheduler'
import { isActiveState, type TaskState } from './scheduler-state'
import { runSlurmCommand, type SlurmRunner } from './slurm-commands'
import { latestJobByRun, listSubmissions, type RunJob } from './submissions'
import { readSlurmFields } from './task-identity'

export type { ProjectStatus, RunStatusRow, SweepRunState } from '../../shared/cluster-status'

/** Slurm end states after which the run can simply continue from its last epoch. */
const STOPPED_FROM_OUTSIDE = new Set(['TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE'])

/**
 * Decides a run's state from its record and its latest array task. The run folder is the truth about
 * the work (a done run is done, whatever the job says); the job says what happens to unfinished work.
 * `task` is undefined when Slurm knows nothing: never submitted, forgotten (`schedulerAvailable`), or no
 * Slurm here (`schedulerAvailable` false: a laptop with the project mounted follows the folders).
 */
export function mergeRunState(
  run: Pick<RunRecord, 'status' | 'error'>,
  job: RunJob | undefined,
  task: TaskState | undefined,
  schedulerAvailable = true
): { state: SweepRunState; detail: string | null } {
  if (run.status === 'done') return { state: 'done', detail: null }
  if (run.status === 'unreadable') return { state: 'unreadable', detail: run.error }
  if (task && isActiveState(task.state)) {
    if (task.state === 'PENDING' || task.state.startsWith('REQUEUE')) return { state: 'queued', detail: task.reason ? `pending: ${task.reason}` : 'pending' }
    return { state: 'running', detail: task.state === 'RUNNING' ? null : task.state.toLowerCase() }
  }
  if (task) {
    const code = task.exitCode !== null ? `, exit code ${task.exitCode}${task.signal ? ` (signal ${task.signal})` : ''}` : ''
    if (STOPPED_FROM_OUTSIDE.has(task.state)) return { state: 'interrupted', detail: `${task.state.toLowerCase().replace(/_/g, ' ')}${code}; resume continues from the last epoch` }
    if (task.state === 'CANCELLED') return { state: 'cancelled', detail: task.reason ? `cancelled: ${task.reason}` : 'cancelled' }
    if (task.state === 'COMPLETED') return { state: 'failed', detail: `job completed but the run is ${run.status}${run.error ? `: ${run.error}` : ''}` }
    return { state: 'failed', detail: `${task.state.toLowerCase().replace(/_/g, ' ')}${code}${run.error ? `: ${run.error}` : ''}` }
  }
  if (job && schedulerAvailable) {
    // Slurm was asked and has forgotten the job: whatever it did is over.
    const gone = `job ${job.jobId} is no longer known to Slurm`
    if (run.status === 'planned') return { state: 'planned', detail: `${gone} and never started the run` }
    if (run.status === 'running') return { state: 'interrupted', detail: `${gone}; the run stopped without saying so (killed?)` }
  }
  // No word from Slurm: say what the folder says.
  switch (run.status) {
    case 'planned':
      return job ? { state: 'queued', detail: `submitted as ${job.jobId}; no scheduler information` } : { state: 'planned', detail: null }
    case 'running':
      return { state: 'running', detail: job ? 'no scheduler information' : null }
    case 'failed':
      return { state: 'failed', detail: run.error }
    case 'cancelled':
      return { state: 'cancelled', detail: run.error }
    default:
      return { state: 'interrupted', detail: run.error }
  }
}

/** Fraction of the run done, from its last metrics line (batch-level while an epoch is under way). */
export function progressOf(records: readonly MetricsRecord[], totalEpochs: number, done: boolean): number {
  if (done) return 1
  const last = records.at(-1)
  if (!last || totalEpochs <= 0) return 0
  const within = last.type === 'batch' ? last.batch / last.batchesPerEpoch : 1
  return Math.min(1, (last.epoch - 1 + within) / totalEpochs)
}

/**
 * Reads every run of the project and merges it with what Slurm says about the runs' latest array
 * tasks. Without Slurm commands (a laptop with the project mounted) the rows follow the folders alone.
 */
export async function readProjectStatus(projectDir: string, run: SlurmRunner = runSlurmCommand): Promise<ProjectStatus> {
  const runs = await listRuns(projectDir)
  const latest = latestJobByRun(await listSubmissions(projectDir))
  const scheduler = await queryScheduler(run, [...new Set([...latest.values()].map((j) => j.arrayJobId))])
  const rows: RunStatusRow[] = []
  for (const record of runs) {
    const job = latest.get(record.id)
    const task = job ? scheduler.tasks.get(job.jobId) : undefined
    const { state, detail } = mergeRunState(record, job, task, scheduler.available)
    const metrics = await readMetrics(join(runDir(projectDir, record.id), METRICS_FILE)).catch(() => [])
    rows.push({
      id: record.id,
      label: describeRun(record),
      kind: record.kind,
      state,
      detail,
      runStatus: record.status,
      epochs: record.epochs,
      totalEpochs: record.config.epochs,
      progress: progressOf(metrics, record.config.epochs, record.status === 'done'),
      bestValAcc: record.bestValAcc,
      jobId: job?.jobId ?? null,
      jobState: task?.state ?? null,
      exitCode: task?.exitCode ?? null,
      node: task?.node ?? readSlurmFields(record).node ?? null,
      submissionId: job?.submissionId ?? null
    })
  }
  const counts = { planned: 0, queued: 0, running: 0, done: 0, failed: 0, interrupted: 0, cancelled: 0, unreadable: 0 } satisfies Record<SweepRunState, number>
  for (const row of rows) counts[row.state]++
  return { projectDir, rows, counts, schedulerAvailable: scheduler.available, note: scheduler.note }
}
