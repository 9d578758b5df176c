import { basename } from 'node:path'
import { escapeControlCharacters } from '../../shared/plain-text'
import type { CliLauncher } from './launcher'
import { resourceDirectives, SlurmOptionError, type SlurmOptions } from './slurm-options'

/** One job array of a submission: which runs, and what it must wait for. */
export interface ArrayPlan {
  /** `base` or `transfer` (with `-2`, `-3` … when a phase is split to respect MaxArraySize). */
  name: string
  phase: 'base' | 'transfer'
  jobName: string
  /** Task i runs runIds[i]. */
  runIds: string[]
  /** Absolute paths of the files that make up the array. */
  script: string
  runList: string
  logDir: string
  /** Arrays of the same submission that must succeed first (by name). */
  afterArrays: string[]
  /** Jobs of earlier submissions that must succeed first (`1234` or array tasks `1234_5`). */
  afterJobs: string[]
}

/** Everything an array script says besides its runs. */
export interface ScriptContext {
  projectDir: string
  projectName: string
  submissionId: string
  options: SlurmOptions
  launcher: CliLauncher
}

/** Quotes a word for bash, only when it needs it (scripts stay readable). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * User text (the project's name, its folder) for a `#` comment line. A line break would end the
 * comment and make the rest of the name a command, so control characters are written as escapes and
 * the text sits in double quotes; nothing of it is ever in a position the shell reads.
 */
export function commentText(text: string): string {
  return `"${escapeControlCharacters(text)}"`
}

/** A Slurm job id as sbatch prints it (`1234`, or an array task `1234_5`); anything else never reaches a script. */
const JOB_ID = /^\d+(_\d+)?$/

function checkJobIds(ids: readonly string[]): void {
  for (const id of ids) {
    if (!JOB_ID.test(id)) throw new Error(`'${escapeControlCharacters(id)}' is not a Slurm job id (expected 1234 or 1234_5); the submission record it came from is damaged`)
  }
}

/** The run list file: one run id a line; line i+1 is array task i. */
export function renderRunList(runIds: readonly string[]): string {
  return runIds.map((id) => `${id}\n`).join('')
}

/** `0-5` or `0-5%2`: the task range and the throttle. */
export function arraySpec(count: number, maxParallel: number | undefined): string {
  if (count < 1) throw new Error('an array needs at least one task')
  return `0-${count - 1}${maxParallel !== undefined && maxParallel < count ? `%${maxParallel}` : ''}`
}

/**
 * The batch script of one array: `#SBATCH` lines for the array, its log files and resources, then
 * one `exec` of the CLI's `run-one` that picks its run by SLURM_ARRAY_TASK_ID. Dependencies are not
 * in the script (they name job ids known only at submission); `submit.sh` passes them.
 */
export function renderArrayScript(array: ArrayPlan, context: ScriptContext): string {
  const list = basename(array.runList)
  const lines = [
    '#!/bin/bash',
    `# Transfer Workbench: ${array.phase} runs of project ${commentText(context.projectName)}, submission ${commentText(context.submissionId)}.`,
    `# Array task i trains the run on line i+1 of ${list} (SLURM_ARRAY_TASK_ID counts from 0), writing only`,
    `# its own folder under ${commentText(`${context.projectDir}/runs/`)} and resuming from its last epoch if stopped before.`,
    '#',
    '#   submit this submission:        bash submit.sh',
    `#   submit this array alone:       sbatch ${basename(array.script)}`,
    `#   run task 0 here, without Slurm: SLURM_ARRAY_TASK_ID=0 bash ${basename(array.script)}`
  ]
  if (array.afterArrays.length + array.afterJobs.length > 0) {
    lines.push('#', '# submit.sh submits it with --dependency=afterok:<the base runs\' jobs> --kill-on-invalid-dep=yes:', '# a transfer starts only after the base runs it copies from finished, and is cancelled if one failed.')
  }
  const directives = [
    `--job-name=${array.jobName}`,
    `--array=${arraySpec(array.runIds.length, context.options.maxParallel)}`,
    `--output=${array.logDir}/%x_%A_%a.out`,
    // A requeued task (preemption, node failure) appends to its log instead of wiping the first attempt's.
    '--open-mode=append',
    '--requeue',
    ...resourceDirectives(context.options)
  ]
  for (const directive of directives) {
    // sbatch reads one word per #SBATCH line; a line break would turn the rest into a shell command.
    if (/[\s\p{Cc}]/u.test(directive)) throw new SlurmOptionError(`#SBATCH ${escapeControlCharacters(directive)}: an sbatch option cannot hold spaces or control characters`)
  }
  lines.push('#', ...directives.map((d) => `#SBATCH ${d}`), '', 'set -euo pipefail', 'export TF_FORCE_GPU_ALLOW_GROWTH=true')
  lines.push(...(context.options.taskSetup ?? []))
  lines.push(`cd ${shellQuote(context.launcher.cwd)}`)
  // exec: the CLI itself receives Slurm's SIGTERM (time limit, preemption, scancel) and saves the run as interrupted.
  const command = [...context.launcher.argv, 'run-one', '--project', context.projectDir, '--run-list', array.runList]
  lines.push(`exec ${command.map(shellQuote).join(' ')}`, '')
  return lines.join('\n')
}

/** The sbatch arguments that submit an array, given its dependencies' job ids. */
export function sbatchArguments(script: string, dependencies: readonly string[]): string[] {
  checkJobIds(dependencies)
  const args = ['--parsable']
  if (dependencies.length > 0) args.push(`--dependency=afterok:${dependencies.join(':')}`, '--kill-on-invalid-dep=yes')
  return [...args, script]
}

function jobVariable(array: ArrayPlan): string {
  return `${array.name.replace(/[^A-Za-z0-9]/g, '_')}_job`
}

/**
 * One shell word made of literal text and `${variable}` references: literals single-quoted (nothing
 * in them is expanded), references double-quoted, concatenated without spaces.
 */
function shellWord(parts: readonly ({ text: string } | { variable: string })[]): string {
  // Adjacent literals are merged first, so `--dependency=afterok:41_2` stays one readable bare word.
  const merged: typeof parts[number][] = []
  for (const part of parts) {
    const last = merged.at(-1)
    if ('text' in part && last && 'text' in last) merged[merged.length - 1] = { text: last.text + part.text }
    else merged.push(part)
  }
  return merged.map((p) => ('variable' in p ? `"\${${p.variable}}"` : shellQuote(p.text))).join('')
}

/**
 * `submit.sh`: submits the arrays in order with the same arguments the workbench uses, so a submission
 * can be repeated by hand (after `cancel`, or on another cluster). Prints the job ids.
 */
export function renderSubmitScript(arrays: readonly ArrayPlan[], context: Pick<ScriptContext, 'projectName' | 'submissionId'>): string {
  const lines = [
    '#!/bin/bash',
    `# Transfer Workbench: submits submission ${commentText(context.submissionId)} of project ${commentText(context.projectName)} to Slurm.`,
    '# Base runs first; the transfer runs wait for them (afterok). Run from anywhere: paths are absolute.',
    'set -euo pipefail',
    'cd "$(dirname "$0")"'
  ]
  for (const array of arrays) {
    checkJobIds(array.afterJobs)
    // The ids of this submission's own arrays are known only as submit.sh runs: shell variables. The
    // same arguments as sbatchArguments, but built as shell words, never by pasting text into quotes.
    const deps = [
      ...array.afterArrays.map((name) => ({ variable: jobVariable(arrays.find((a) => a.name === name) as ArrayPlan) })),
      ...array.afterJobs.map((id) => ({ text: id }))
    ]
    const args = ['--parsable']
    if (deps.length > 0) args.push(shellWord([{ text: '--dependency=afterok' }, ...deps.flatMap((d) => [{ text: ':' }, d])]), '--kill-on-invalid-dep=yes')
    args.push(shellQuote(basename(array.script)))
    // --parsable prints "jobid" or "jobid;cluster": keep the id.
    lines.push(`${jobVariable(array)}=$(sbatch ${args.join(' ')} | cut -d';' -f1)`, `echo "${array.name}: job \${${jobVariable(array)}} (${array.runIds.length} runs)"`)
  }
  lines.push('')
  return lines.join('\n')
}
