import { hostname } from 'node:os'
import type { RunRecord } from '../../shared/project'

/** One attempt at a run by a Slurm task (a preempted run has several). */
export interface SlurmAttempt {
  jobId: string
  node: string
  startedAt: string
}

/** The fields a run executed by `run-one` adds to its run.json. */
export interface SlurmRunFields {
  executor: 'slurm' | 'local'
  /** `<arrayJobId>_<taskId>` (as squeue shows it), or the plain job id outside an array. Latest attempt. */
  slurmJobId?: string
  /** The node of the latest attempt. */
  node: string
  /** Every Slurm attempt, oldest first. */
  slurmJobs?: SlurmAttempt[]
}

/** The Slurm job this process runs in, from the variables Slurm sets; undefined outside Slurm. */
export function currentSlurmTask(env: NodeJS.ProcessEnv = process.env): { jobId: string; node: string } | undefined {
  if (!env.SLURM_JOB_ID) return undefined
  const jobId = env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID ? `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}` : env.SLURM_JOB_ID
  return { jobId, node: env.SLURMD_NODENAME || hostname() }
}

/** The Slurm fields a run record carries, if any (RunRecord does not declare them). */
export function readSlurmFields(record: RunRecord): Partial<SlurmRunFields> {
  return record as unknown as Partial<SlurmRunFields>
}

/**
 * What `run-one` records in run.json: `executor: "slurm"`, the job and the node inside a Slurm task
 * (appending to the attempts of earlier, preempted tasks), `executor: "local"` and the host when a
 * batch script is run by hand.
 */
export function runAnnotation(record: RunRecord, env: NodeJS.ProcessEnv = process.env, now = new Date()): SlurmRunFields {
  const task = currentSlurmTask(env)
  if (!task) return { executor: 'local', node: hostname() }
  const previous = readSlurmFields(record).slurmJobs ?? []
  return { executor: 'slurm', slurmJobId: task.jobId, node: task.node, slurmJobs: [...previous, { jobId: task.jobId, node: task.node, startedAt: now.toISOString() }] }
}
