/** Progress of a run and of a sweep, from the figures the engine streams. */
import type { RunProgress, SweepStatus } from '../../../shared/contract'
import type { DataProgress } from '../../../shared/train-request'

/** Fraction (0–1) of a run's batches done. */
export function runFraction(progress: Pick<RunProgress, 'epoch' | 'epochs' | 'batch' | 'batchesPerEpoch'> | null | undefined): number {
  if (!progress || progress.epochs <= 0 || progress.batchesPerEpoch <= 0) return 0
  const done = (progress.epoch - 1) * progress.batchesPerEpoch + progress.batch
  return Math.min(1, Math.max(0, done / (progress.epochs * progress.batchesPerEpoch)))
}

/** The readers' steps in words. */
const DATA_STEPS: Record<string, string> = { scan: 'scanning', read: 'reading', decode: 'decoding images' }

/** Loading a run's data in a few words, e.g. "decoding images 1,200/5,000". */
export function dataProgressText(progress: DataProgress): string {
  const count = (n: number): string => n.toLocaleString('en-US')
  return `${DATA_STEPS[progress.phase] ?? progress.phase} ${count(progress.done)}/${count(progress.total)}`
}

export interface SweepProgress {
  /** Fraction (0–1) of the sweep's pending runs done, counting the current run's part. */
  fraction: number
  /** Seconds left for the whole sweep (null until the current run has shown its pace). */
  etaSeconds: number | null
}

/**
 * The whole sweep's progress: runs before the current one count whole, the current one by its
 * batches; the time left assumes the runs still to come take as long as the current one.
 * @param elapsedSeconds how long the current run has been going
 */
export function sweepProgress(status: SweepStatus, current: RunProgress | null | undefined, elapsedSeconds: number | null): SweepProgress | null {
  if (status.total <= 0) return null
  if (status.state !== 'running') return { fraction: status.state === 'done' ? 1 : Math.max(0, status.index - 1) / status.total, etaSeconds: null }
  const part = runFraction(current)
  const fraction = Math.min(1, (Math.max(0, status.index - 1) + part) / status.total)
  let etaSeconds: number | null = null
  if (current && part > 0.02) {
    const runSeconds = elapsedSeconds !== null && elapsedSeconds > 0 ? elapsedSeconds / part : current.etaSeconds / (1 - part)
    etaSeconds = current.etaSeconds + Math.max(0, status.total - status.index) * runSeconds
  }
  return { fraction, etaSeconds }
}
