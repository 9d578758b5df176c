/** The progress every library operation reports: the same shape for the CLI bar and the `library:job` event. */
import type { LibraryJobState } from '../../shared/contract'

/** One progress report of a download or import. */
export interface LibraryProgress {
  state: Exclude<LibraryJobState, 'done' | 'failed' | 'cancelled'>
  /** Progress within the state, in `unit`s. */
  done: number
  total: number | null
  unit: 'bytes' | 'files'
  /** Only while downloading. */
  bytesPerSecond: number | null
  etaSeconds: number | null
  /** Bytes a download resumed from (0 for a fresh start or an import). */
  resumedFromBytes: number
  /** One line saying what is happening. */
  message: string
}

/** A progress report for a step measured in bytes or files, without rate. */
export function stepProgress(state: LibraryProgress['state'], done: number, total: number | null, message: string, unit: LibraryProgress['unit'] = 'bytes'): LibraryProgress {
  return { state, done, total, unit, bytesPerSecond: null, etaSeconds: null, resumedFromBytes: 0, message }
}
