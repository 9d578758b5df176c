/** How array tasks ask Slurm for resources; every field is optional (the cluster's defaults apply). */
export interface SlurmOptions {
  partition?: string
  /** Time limit per task, in any form sbatch takes: `30`, `4:00:00`, `1-12:00:00`. */
  time?: string
  gpusPerTask?: number
  cpusPerTask?: number
  /** Memory per node, as sbatch takes it: `16G`, `4000M`. */
  mem?: string
  /** At most this many tasks of an array run at once (the `%N` throttle). */
  maxParallel?: number
  /** Further sbatch options, each one `--name=value` word (e.g. `--account=lab`, `--qos=short`). */
  sbatchArgs?: string[]
  /** Shell lines run before the CLI in each task (e.g. `module load nodejs/20`). */
  taskSetup?: string[]
}

/** A bad Slurm option: names the option. */
export class SlurmOptionError extends Error {
  override name = 'SlurmOptionError'
}

const TIME = /^(\d+-)?\d+(:\d{1,2}){0,2}$/
const MEM = /^\d+[KMGT]?$/i
const WORD = /^[A-Za-z0-9_.,:@%+=/-]+$/

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new SlurmOptionError(`--${name}: '${value}' is not a positive whole number`)
}

/**
 * Checks options before anything is written or submitted, so a typo fails at once rather than as a
 * rejected sbatch after the scripts exist. Values end up in `#SBATCH` lines, so no spaces or quotes.
 */
export function validateSlurmOptions(options: SlurmOptions): SlurmOptions {
  if (options.partition !== undefined && !WORD.test(options.partition)) throw new SlurmOptionError(`--partition: '${options.partition}' is not a partition name`)
  if (options.time !== undefined && !TIME.test(options.time)) throw new SlurmOptionError(`--time: '${options.time}' is not a Slurm time (minutes, H:MM:SS or D-HH:MM:SS)`)
  if (options.mem !== undefined && !MEM.test(options.mem)) throw new SlurmOptionError(`--mem: '${options.mem}' is not a memory size such as 16G or 4000M`)
  positiveInteger('gpus-per-task', options.gpusPerTask)
  positiveInteger('cpus-per-task', options.cpusPerTask)
  positiveInteger('max-parallel', options.maxParallel)
  for (const arg of options.sbatchArgs ?? []) {
    if (!/^--[a-z][a-z0-9-]*(=\S+)?$/.test(arg)) throw new SlurmOptionError(`--sbatch-arg: '${arg}' is not one sbatch option word; write it as --sbatch-arg=--account=lab`)
    if (/^--(array|output|error|dependency|job-name|parsable)\b/.test(arg)) throw new SlurmOptionError(`--sbatch-arg: ${arg.split('=')[0]} is set by the workbench itself`)
  }
  for (const line of options.taskSetup ?? []) if (line.includes('\n')) throw new SlurmOptionError('--task-setup: one line per flag')
  return options
}

/** The `#SBATCH` option words the resource options ask for (no array, name or output: the script adds those). */
export function resourceDirectives(options: SlurmOptions): string[] {
  const out: string[] = ['--ntasks=1'] // --gpus-per-task needs a task count; one task trains one run
  if (options.partition) out.push(`--partition=${options.partition}`)
  if (options.time) out.push(`--time=${options.time}`)
  if (options.gpusPerTask !== undefined) out.push(`--gpus-per-task=${options.gpusPerTask}`)
  if (options.cpusPerTask !== undefined) out.push(`--cpus-per-task=${options.cpusPerTask}`)
  if (options.mem) out.push(`--mem=${options.mem}`)
  out.push(...(options.sbatchArgs ?? []))
  return out
}

/**
 * Fills options left out on a resubmission from the previous submission's, so `resume --executor slurm`
 * asks for the same partition, time and GPUs unless told otherwise.
 */
export function inheritSlurmOptions(given: SlurmOptions, previous: SlurmOptions | undefined): SlurmOptions {
  if (!previous) return given
  const merged: SlurmOptions = { ...previous }
  for (const [key, value] of Object.entries(given)) if (value !== undefined && !(Array.isArray(value) && value.length === 0)) (merged as Record<string, unknown>)[key] = value
  return merged
}
