import { currentCliLauncher, parseCliLauncher, type CliLauncher } from '../engine/slurm/launcher'
import type { SlurmOptions } from '../engine/slurm/slurm-options'
import { numberFlag, UsageError } from './args'

/** The flags `sweep` and `resume` take for `--executor slurm`, for node:util parseArgs. */
export const SLURM_FLAG_OPTIONS = {
  executor: { type: 'string' },
  partition: { type: 'string' },
  time: { type: 'string' },
  'gpus-per-task': { type: 'string' },
  'cpus-per-task': { type: 'string' },
  mem: { type: 'string' },
  'max-parallel': { type: 'string' },
  'sbatch-arg': { type: 'string', multiple: true },
  'task-setup': { type: 'string', multiple: true },
  cli: { type: 'string' }
} as const

/** The Slurm flags' part of the `sweep` usage. */
export const SLURM_FLAGS_USAGE = `[--executor local|slurm] with slurm: [--partition P] [--time 4:00:00] [--gpus-per-task N]
  [--cpus-per-task N] [--mem 16G] [--max-parallel N] [--sbatch-arg=--account=lab …] [--task-setup 'module load nodejs' …]
  [--cli 'node /shared/workbench/src/cli/index.js']`

type FlagValues = { [K in keyof typeof SLURM_FLAG_OPTIONS]?: (typeof SLURM_FLAG_OPTIONS)[K] extends { multiple: true } ? string[] : string }

/** `local` (the default) or `slurm`. */
export function executorFrom(values: FlagValues): 'local' | 'slurm' {
  const executor = values.executor ?? 'local'
  if (executor !== 'local' && executor !== 'slurm') throw new UsageError(`--executor: '${executor}' is not local or slurm`)
  if (executor === 'local') {
    const stray = Object.keys(SLURM_FLAG_OPTIONS).filter((k) => k !== 'executor' && values[k as keyof FlagValues] !== undefined)
    if (stray.length > 0) throw new UsageError(`${stray.map((k) => `--${k}`).join(', ')} apply only with --executor slurm`)
  }
  return executor
}

/** The Slurm options the flags give (only those given; validated when submitting). */
export function slurmOptionsFrom(values: FlagValues): SlurmOptions {
  const options: SlurmOptions = {
    partition: values.partition,
    time: values.time,
    gpusPerTask: numberFlag('gpus-per-task', values['gpus-per-task']),
    cpusPerTask: numberFlag('cpus-per-task', values['cpus-per-task']),
    mem: values.mem,
    maxParallel: numberFlag('max-parallel', values['max-parallel']),
    sbatchArgs: values['sbatch-arg'],
    taskSetup: values['task-setup']
  }
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SlurmOptions
}

/**
 * The command array tasks start: `--cli` (run from the project folder, which every node sees), else
 * the previous submission's, else the one running now.
 */
export function launcherFrom(values: FlagValues, previous?: CliLauncher, projectDir = process.cwd()): CliLauncher {
  if (values.cli) return parseCliLauncher(values.cli, projectDir)
  return previous ?? currentCliLauncher()
}
