/**
 * A project's runs as a Slurm cluster sees them: `status --json` prints this, and the app's run
 * monitor shows it (`getClusterStatus`). Each run's folder is merged with its latest array task.
 */
import type { RunRecord } from './project'

/** A run's state as the user sees it, from its folder and its Slurm job together (`unreadable`: its run.json cannot be read). */
export type SweepRunState = 'planned' | 'queued' | 'running' | 'done' | 'failed' | 'interrupted' | 'cancelled' | 'unreadable'

/** Every state, in the order lists show them. */
export const SWEEP_RUN_STATES: readonly SweepRunState[] = ['planned', 'queued', 'running', 'done', 'failed', 'interrupted', 'cancelled', 'unreadable']

/** One row of `status`. */
export interface RunStatusRow {
  id: string
  /** "AnB n=3 A→B" or "base B". */
  label: string
  kind: RunRecord['kind']
  state: SweepRunState
  /** Why: the job's pending reason, exit code, end state, or the run's error. */
  detail: string | null
  /** What run.json says. */
  runStatus: RunRecord['status']
  epochs: number
  totalEpochs: number
  /** 0…1, from metrics.jsonl (follows a running run batch by batch). */
  progress: number
  bestValAcc: number | null
  /** `<arrayJobId>_<taskId>` of the run's latest submission, if any. */
  jobId: string | null
  jobState: string | null
  exitCode: number | null
  node: string | null
  submissionId: string | null
}

/** `status --json`: every run of the project, merged with the scheduler. */
export interface ProjectStatus {
  projectDir: string
  rows: RunStatusRow[]
  counts: Record<SweepRunState, number>
  /** False when Slurm could not be asked (e.g. on a laptop with the project mounted): rows then follow the run folders. */
  schedulerAvailable: boolean
  note?: string
}
