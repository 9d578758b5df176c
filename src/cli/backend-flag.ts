import { BACKEND_NAMES } from '../shared/backend'
import { ENV } from '../engine/env'
import { UsageError } from './args'

/** `--backend NAME` for the commands that train or time training (train, sweep, run-one, bench). */
export const BACKEND_FLAG_OPTIONS = { backend: { type: 'string' } } as const

export const BACKEND_FLAG_USAGE = `[--backend ${BACKEND_NAMES.join('|')}]`

/**
 * Forces a backend as `WORKBENCH_BACKEND` does, for this process and every process it starts (the
 * trainer, data-parallel workers, Slurm tasks submitted from here): the environment is how they all
 * learn it. A forced backend that cannot start is an error, never a silent fallback.
 */
export function applyBackendFlag(value: string | undefined): void {
  if (value === undefined) return
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) throw new UsageError(`--backend: '${value}' is not a backend; use one of ${BACKEND_NAMES.join(', ')}`)
  process.env[ENV.backend] = value
}
