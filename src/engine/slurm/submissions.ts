import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { writeJsonAtomic } from '../project/atomic-files'
import type { CliLauncher } from './launcher'
import type { SlurmOptions } from './slurm-options'

/** The project's Slurm folder: one sub-folder per submission (`001`, `002` …). */
export const SLURM_DIR = 'slurm'
/** The record of one submission, inside its folder. */
export const SUBMISSION_FILE = 'submission.json'

/** One submitted (or being submitted) job array, as recorded in `submission.json`. */
export interface SubmittedArray {
  name: string
  phase: 'base' | 'transfer'
  jobName: string
  /** Task i runs runIds[i]. */
  runIds: string[]
  /** File names inside the submission folder (the scripts themselves hold absolute paths). */
  script: string
  runList: string
  /** The job ids it was submitted to wait for (afterok). */
  dependencies: string[]
  /** Slurm's array job id; null until sbatch answered (or when it failed: see `error`). */
  jobId: string | null
  error?: string
}

/** `slurm/<id>/submission.json`: what was submitted when, with which options, as which jobs. */
export interface SubmissionRecord {
  id: string
  submittedAt: string
  /** The project folder as the cluster sees it (scripts use it; a laptop may mount it elsewhere). */
  projectDir: string
  options: SlurmOptions
  launcher: CliLauncher
  arrays: SubmittedArray[]
}

/** Where a run was last sent: its array task. */
export interface RunJob {
  submissionId: string
  arrayName: string
  arrayJobId: string
  taskId: number
  /** `<arrayJobId>_<taskId>`. */
  jobId: string
}

/** The folder of one submission. */
export function submissionDir(projectDir: string, id: string): string {
  return join(resolve(projectDir), SLURM_DIR, id)
}

/** Every submission of the project, oldest first (ids are zero-padded, so name order is time order). */
export async function listSubmissions(projectDir: string): Promise<SubmissionRecord[]> {
  const root = join(resolve(projectDir), SLURM_DIR)
  if (!existsSync(root)) return []
  const out: SubmissionRecord[] = []
  for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = join(root, entry.name, SUBMISSION_FILE)
    if (!entry.isDirectory() || !existsSync(file)) continue
    out.push(JSON.parse(await readFile(file, 'utf8')) as SubmissionRecord)
  }
  return out
}

/** The next free submission id. Call under the project lock so two submitters never pick the same one. */
export async function nextSubmissionId(projectDir: string): Promise<string> {
  const root = join(resolve(projectDir), SLURM_DIR)
  const names = existsSync(root) ? await readdir(root) : []
  const last = Math.max(0, ...names.filter((n) => /^\d+$/.test(n)).map(Number))
  return String(last + 1).padStart(3, '0')
}

/** Writes (or rewrites) a submission's record atomically. */
export async function writeSubmission(projectDir: string, record: SubmissionRecord): Promise<void> {
  await writeJsonAtomic(join(submissionDir(projectDir, record.id), SUBMISSION_FILE), record)
}

/** Each run's latest array task over all submissions (arrays that never got a job id are skipped). */
export function latestJobByRun(submissions: readonly SubmissionRecord[]): Map<string, RunJob> {
  const out = new Map<string, RunJob>()
  for (const submission of submissions) {
    for (const array of submission.arrays) {
      if (!array.jobId) continue
      array.runIds.forEach((runId, taskId) => {
        out.set(runId, { submissionId: submission.id, arrayName: array.name, arrayJobId: array.jobId as string, taskId, jobId: `${array.jobId}_${taskId}` })
      })
    }
  }
  return out
}
