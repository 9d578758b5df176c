import { basename } from 'node:path'
import type { CliLauncher } from './launcher'
import { resourceDirectives, type SlurmOptions } from './slurm-options'

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
    `# Transfer Workbench: ${array.phase} runs of project "${context.projectName}", submission ${context.submissionId}.`,
    `# Array task i trains the run on line i+1 of ${list} (SLURM_ARRAY_TASK_ID counts from 0), writing only`,
    `# its own folder under ${context.projectDir}/runs/ and resuming from its last epoch if stopped before.`,
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
  const args = ['--parsable']
  if (dependencies.length > 0) args.push(`--dependency=afterok:${dependencies.join(':')}`, '--kill-on-invalid-dep=yes')
  return [...args, script]
}

function jobVariable(array: ArrayPlan): string {
  return `${array.name.replace(/[^A-Za-z0-9]/g, '_')}_job`
}

/**
 * `submit.sh`: submits the arrays in order with the same arguments the workbench uses, so a submission
 * can be repeated by hand (after `cancel`, or on another cluster). Prints the job ids.
 */
export function renderSubmitScript(arrays: readonly ArrayPlan[], context: Pick<ScriptContext, 'projectName' | 'submissionId'>): string {
  const lines = [
    '#!/bin/bash',
    `# Transfer Workbench: submits submission ${context.submissionId} of project "${context.projectName}" to Slurm.`,
    '# Base runs first; the transfer runs wait for them (afterok). Run from anywhere: paths are absolute.',
    'set -euo pipefail',
    'cd "$(dirname "$0")"'
  ]
  for (const array of arrays) {
    const deps = [...array.afterArrays.map((name) => `\${${jobVariable(arrays.find((a) => a.name === name) as ArrayPlan)}}`), ...array.afterJobs]
    const args = sbatchArguments(basename(array.script), deps).map((a) => (a.includes('${') ? `"${a}"` : shellQuote(a)))
    // --parsable prints "jobid" or "jobid;cluster": keep the id.
    lines.push(`${jobVariable(array)}=$(sbatch ${args.join(' ')} | cut -d';' -f1)`, `echo "${array.name}: job \${${jobVariable(array)}} (${array.runIds.length} runs)"`)
  }
  lines.push('')
  return lines.join('\n')
}
