import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { escapeControlCharacters } from '../../shared/plain-text'
import type { RunRecord } from '../../shared/project'
import { describeLockOwner, withProjectLock } from '../project/project-lock'
import { readProject, readRun } from '../project/project-store'
import { runLockHolder } from '../project/run-lock'
import { writeProjectPlan } from '../train/sweep'
import type { CliLauncher } from './launcher'
import { queryScheduler } from './query-scheduler'
import { isActiveState } from './scheduler-state'
import { renderArrayScript, renderRunList, renderSubmitScript, sbatchArguments, type ArrayPlan, type ScriptContext } from './sbatch-script'
import { runSlurmCommand, SlurmCommandError, type SlurmRunner } from './slurm-commands'
import { validateSlurmOptions, type SlurmOptions } from './slurm-options'
import { latestJobByRun, listSubmissions, nextSubmissionId, submissionDir, writeSubmission, type SubmissionRecord } from './submissions'

/** Slurm's default MaxArraySize is 1001 (task ids 0…1000); longer phases are split into several arrays. */
export const DEFAULT_MAX_ARRAY_SIZE = 1000

/** What to submit with: resources, how tasks start the CLI, and (for tests) how Slurm is reached. */
export interface SubmitOptions {
  slurm: SlurmOptions
  launcher: CliLauncher
  /** Runs the Slurm commands (the real ones by default). */
  run?: SlurmRunner
  maxArraySize?: number
  now?: Date
}

/** What a submission did, and what it left alone. */
export interface SubmitResult {
  /** Null when there was nothing to submit. */
  submission: SubmissionRecord | null
  /** Runs already done: not submitted. */
  done: string[]
  /** Runs still queued or running from an earlier submission: not submitted again. */
  active: { runId: string; jobId: string; state: string }[]
  /**
   * Runs not submitted, with the reason: another live process trains them outside this submission (a
   * local sweep, the app, a task of a forgotten job: their run lock is held), or trains the base a
   * transfer waits for (Slurm cannot wait for a process it does not run), or their run.json cannot be
   * read. `resume --executor slurm` submits them once that has changed.
   */
  leftAlone: { runId: string; reason: string }[]
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** A job name Slurm and humans both read well: `wb-<project>-<phase>`. */
function jobName(projectName: string, phase: string): string {
  return `wb-${projectName.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32)}-${phase}`
}

/**
 * Lays out the arrays: bases first, then transfers waiting (afterok) for the base arrays that hold
 * their sources and for sources still queued or running from an earlier submission.
 */
function planArrays(pending: RunRecord[], activeJobOf: Map<string, string>, dir: string, projectName: string, maxArraySize: number): ArrayPlan[] {
  const arrays: ArrayPlan[] = []
  const add = (phase: 'base' | 'transfer', runs: RunRecord[]): ArrayPlan[] =>
    chunks(runs, maxArraySize).map((part, i) => {
      const name = i === 0 ? phase : `${phase}-${i + 1}`
      const array: ArrayPlan = {
        name,
        phase,
        jobName: jobName(projectName, phase),
        runIds: part.map((r) => r.id),
        script: join(dir, `${name}.sbatch`),
        runList: join(dir, `${name}.runs`),
        logDir: join(dir, 'logs'),
        afterArrays: [],
        afterJobs: []
      }
      arrays.push(array)
      return array
    })
  const baseArrays = add('base', pending.filter((r) => r.kind !== 'transfer'))
  const transfers = pending.filter((r) => r.kind === 'transfer')
  const sources = new Set(transfers.map((r) => r.sourceRunId).filter((id): id is string => id !== null))
  const afterArrays = baseArrays.filter((a) => a.runIds.some((id) => sources.has(id))).map((a) => a.name)
  const afterJobs = [...sources].map((id) => activeJobOf.get(id)).filter((id): id is string => id !== undefined)
  for (const array of add('transfer', transfers)) {
    array.afterArrays = afterArrays
    array.afterJobs = [...new Set(afterJobs)].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))
  }
  return arrays
}

/**
 * Submits every run of the project that is not done and not already queued or running in Slurm:
 * plans the runs into the project (as a local sweep does), writes the submission's scripts and run
 * lists into `slurm/<id>/`, then submits the base runs as one job array and the transfers as another
 * that waits for it. Works as first submission and as `resume` alike. Holds the project lock, so two
 * submitters never send the same run twice. Runs that another process is training here or elsewhere
 * (their run lock is held) are left alone, and so are transfers whose base such a process trains, and
 * runs whose run.json cannot be read (see SubmitResult.leftAlone).
 * @throws SlurmCommandError when Slurm cannot be asked what is queued, or sbatch refuses (the record
 *   then says which arrays got a job id)
 */
export async function submitProject(projectDir: string, options: SubmitOptions): Promise<SubmitResult> {
  const dir = resolve(projectDir)
  if (/[\s\p{Cc}]/u.test(dir)) throw new Error(`${escapeControlCharacters(dir)}: Slurm's #SBATCH lines cannot hold a path with spaces or control characters; move the project`)
  const run = options.run ?? runSlurmCommand
  const slurm = validateSlurmOptions(options.slurm)
  // Before anything is written: on a machine without Slurm, say so instead of leaving scripts behind.
  const probe = await run('sbatch', ['--version'])
  if (probe.code !== 0) throw new SlurmCommandError('sbatch', probe)
  return withProjectLock(dir, async () => {
    const manifest = await readProject(dir)
    const order = await writeProjectPlan(dir)
    const submissions = await listSubmissions(dir)
    const latest = latestJobByRun(submissions)
    const scheduler = await queryScheduler(run, [...new Set([...latest.values()].map((j) => j.arrayJobId))], { history: false })
    if (!scheduler.available) throw new SlurmCommandError('squeue', { code: 1, stdout: '', stderr: `cannot tell which runs are still queued: ${scheduler.note}` })

    const done: string[] = []
    const active: SubmitResult['active'] = []
    const activeJobOf = new Map<string, string>()
    const leftAlone: SubmitResult['leftAlone'] = []
    const pending: RunRecord[] = []
    for (const planned of order) {
      let record: RunRecord
      try {
        record = await readRun(dir, planned.id)
      } catch (error) {
        leftAlone.push({ runId: planned.id, reason: (error as Error).message })
        continue
      }
      const job = latest.get(record.id)
      const task = job ? scheduler.tasks.get(job.jobId) : undefined
      if (record.status === 'done') done.push(record.id)
      else if (job && task && isActiveState(task.state)) {
        active.push({ runId: record.id, jobId: job.jobId, state: task.state })
        activeJobOf.set(record.id, job.jobId)
      } else {
        const holder = await runLockHolder(dir, record.id)
        const source = record.sourceRunId ? leftAlone.find((e) => e.runId === record.sourceRunId) : undefined
        if (holder) leftAlone.push({ runId: record.id, reason: `being trained by another process (${describeLockOwner(holder)})` })
        else if (source) leftAlone.push({ runId: record.id, reason: `its base ${source.runId} is not submitted: ${source.reason}` })
        else pending.push(record)
      }
    }
    if (pending.length === 0) return { submission: null, done, active, leftAlone }

    const id = await nextSubmissionId(dir)
    const folder = submissionDir(dir, id)
    await mkdir(join(folder, 'logs'), { recursive: true })
    const arrays = planArrays(pending, activeJobOf, folder, manifest.name, options.maxArraySize ?? DEFAULT_MAX_ARRAY_SIZE)
    const context: ScriptContext = { projectDir: dir, projectName: manifest.name, submissionId: id, options: slurm, launcher: options.launcher }
    for (const array of arrays) {
      await writeFile(array.runList, renderRunList(array.runIds))
      await writeFile(array.script, renderArrayScript(array, context), { mode: 0o755 })
    }
    const submitScript = join(folder, 'submit.sh')
    await writeFile(submitScript, renderSubmitScript(arrays, context))
    await chmod(submitScript, 0o755)

    const record: SubmissionRecord = {
      id,
      submittedAt: (options.now ?? new Date()).toISOString(),
      projectDir: dir,
      options: slurm,
      launcher: options.launcher,
      arrays: arrays.map((a) => ({ name: a.name, phase: a.phase, jobName: a.jobName, runIds: a.runIds, script: basename(a.script), runList: basename(a.runList), dependencies: [], jobId: null }))
    }
    // Written before sbatch too: a submitter that dies half-way leaves a trace of what it meant to do.
    await writeSubmission(dir, record)
    const jobIds = new Map<string, string>()
    for (const [i, array] of arrays.entries()) {
      const entry = record.arrays[i] as SubmissionRecord['arrays'][number]
      entry.dependencies = [...array.afterArrays.map((name) => jobIds.get(name) as string), ...array.afterJobs]
      const result = await run('sbatch', sbatchArguments(array.script, entry.dependencies))
      if (result.code !== 0) {
        entry.error = (result.stderr || result.stdout).trim()
        await writeSubmission(dir, record)
        throw new SlurmCommandError('sbatch', result)
      }
      entry.jobId = result.stdout.trim().split(';')[0] as string
      jobIds.set(array.name, entry.jobId)
      await writeSubmission(dir, record)
    }
    return { submission: record, done, active, leftAlone }
  }, { purpose: 'slurm submission' })
}

/** The options of the project's latest submission, for a resubmission that names none. */
export async function previousSlurmOptions(projectDir: string): Promise<{ options: SlurmOptions; launcher: CliLauncher } | undefined> {
  const last = (await listSubmissions(projectDir)).at(-1)
  return last ? { options: last.options, launcher: last.launcher } : undefined
}
