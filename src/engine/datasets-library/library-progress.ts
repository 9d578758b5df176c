/** The progress every library operation reports: the same shape for the CLI bar and the `library:job` event. */
import type { LibraryProgress } from '../../shared/library'

export type { LibraryProgress }

/** A progress report for a step measured in bytes or files, without rate. */
export function stepProgress(state: LibraryProgress['state'], done: number, total: number | null, message: string, unit: LibraryProgress['unit'] = 'bytes'): LibraryProgress {
  return { state, done, total, unit, bytesPerSecond: null, etaSeconds: null, resumedFromBytes: 0, message }
}
