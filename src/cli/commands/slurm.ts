import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { cancelProject } from '../../engine/slurm/cancel'
import { readProjectStatus, type ProjectStatus } from '../../engine/slurm/status'
import { inheritSlurmOptions } from '../../engine/slurm/slurm-options'
import { previousSlurmOptions, submitProject, type SubmitResult } from '../../engine/slurm/submit'
import { submissionDir } from '../../engine/slurm/submissions'
import { UsageError } from '../args'
import { formatBar } from '../format'
import { launcherFrom, slurmOptionsFrom } from '../slurm-flags'

/** Usage of `cli status`. */
export const STATUS_USAGE = 'usage: cli status --project DIR [--json]   (runs merged with squeue/scontrol; folders alone without Slurm)'
/** Usage of `cli cancel`. */
export const CANCEL_USAGE = 'usage: cli cancel --project DIR [--json]   (scancel of the project\'s queued and running Slurm jobs)'

type SlurmFlagValues = Parameters<typeof slurmOptionsFrom>[0]

/**
 * Submits the project's unfinished runs to Slurm for `sweep`/`resume --executor slurm` and says what
 * happened: job ids, what was left alone, where the scripts are. Options not given are taken from the
 * previous submission. Exit code 0 when submitted or nothing was left to do.
 */
export async function submitAndReport(projectDir: string, values: SlurmFlagValues, json: boolean): Promise<number> {
  const previous = await previousSlurmOptions(projectDir)
  const result = await submitProject(projectDir, {
    slurm: inheritSlurmOptions(slurmOptionsFrom(values), previous?.options),
    launcher: launcherFrom(values, previous?.launcher, projectDir)
  })
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  else process.stdout.write(describeSubmission(projectDir, result))
  return 0
}

/** The human summary of a submission. */
export function describeSubmission(projectDir: string, result: SubmitResult): string {
  const lines: string[] = []
  if (result.done.length > 0) lines.push(`${result.done.length} runs already done`)
  if (result.active.length > 0) lines.push(`${result.active.length} runs still queued or running, left alone: ${result.active.map((a) => a.jobId).join(', ')}`)
  for (const e of result.leftAlone) lines.push(`not submitted: ${e.runId}: ${e.reason}`)
  const submission = result.submission
  if (!submission) lines.push('nothing to submit')
  else {
    for (const array of submission.arrays) {
      const after = array.dependencies.length > 0 ? ` after ${array.dependencies.join(', ')}` : ''
      lines.push(`submitted ${array.runIds.length} ${array.phase} run${array.runIds.length === 1 ? '' : 's'} as job array ${array.jobId}${after}`)
    }
    lines.push(`scripts: ${submissionDir(projectDir, submission.id)}`, `follow: cli status --project ${projectDir}`)
  }
  return `${lines.join('\n')}\n`
}

/** `status` as a table: one line per run. */
export function formatStatus(status: ProjectStatus): string {
  const counts = Object.entries(status.counts).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`).join(', ')
  const lines = [`${status.projectDir} · ${status.rows.length} runs: ${counts || 'none'}`]
  if (status.note) lines.push(`note: ${status.note}`)
  const pad = (text: string, width: number): string => text.padEnd(width)
  lines.push(`${pad('STATE', 12)}${pad('RUN', 24)}${pad('JOB', 12)}${pad('NODE', 12)}${pad('PROGRESS', 20)}${pad('BEST', 8)}DETAIL`)
  for (const row of status.rows) {
    const progress = `${formatBar(row.progress, 10)} ${row.epochs}/${row.totalEpochs}`
    const best = row.bestValAcc === null ? '' : row.bestValAcc.toFixed(4)
    lines.push(`${pad(row.state, 12)}${pad(row.label, 24)}${pad(row.jobId ?? '-', 12)}${pad(row.node ?? '-', 12)}${pad(progress, 20)}${pad(best, 8)}${row.detail ?? ''}`)
  }
  return `${lines.join('\n')}\n`
}

/** `cli status`: the project's runs with their Slurm jobs (`--json` for scripts and the app). */
export async function runStatusCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { project: { type: 'string' }, json: { type: 'boolean' } } })
  if (!values.project) throw new UsageError('--project is required')
  const status = await readProjectStatus(resolve(values.project))
  process.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
  return 0
}

/** `cli cancel`: scancel for the project's queued and running array jobs. */
export async function runCancelCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { project: { type: 'string' }, json: { type: 'boolean' } } })
  if (!values.project) throw new UsageError('--project is required')
  const result = await cancelProject(resolve(values.project))
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  else process.stdout.write(result.cancelled.length > 0 ? `cancelled job arrays ${result.cancelled.join(', ')} (${result.activeTasks} queued or running tasks); \`resume --executor slurm\` submits again\n` : 'no queued or running jobs\n')
  return 0
}
