/** A run's metrics as chart series: from metrics.jsonl records, extended by events. */
import type { BatchMetrics, EpochMetrics, MetricsRecord } from '../../../shared/metrics'

/** One logged batch: x = fractional epoch, step = batches trained since the run began (1-based). */
export interface BatchPoint {
  x: number
  step: number
  loss: number
  acc: number
  /** Training images per second over its epoch so far (to place it on a wall-clock axis). */
  imagesPerSecond: number
}

/** A run's figures for charts: one entry per epoch, one per batch (x = fractional epoch). */
export interface RunSeries {
  epochs: EpochMetrics[]
  batches: BatchPoint[]
  /** Bumped whenever points are added (in copies handed out by seriesOf). */
  version?: number
}

/** A batch record (from the file or a progress event) as a chart point. */
export function batchPoint(m: Pick<BatchMetrics, 'epoch' | 'batch' | 'batchesPerEpoch' | 'loss' | 'acc' | 'imagesPerSecond'>): BatchPoint {
  return {
    x: m.epoch - 1 + m.batch / m.batchesPerEpoch,
    step: (m.epoch - 1) * m.batchesPerEpoch + m.batch,
    loss: m.loss,
    acc: m.acc,
    imagesPerSecond: m.imagesPerSecond
  }
}

/**
 * Builds a run's series from its metrics.jsonl records. An epoch or batch logged twice keeps its last
 * line: a resumed run trains its cut-off epoch again, and the file keeps both attempts.
 */
export function seriesFromRecords(records: readonly MetricsRecord[]): RunSeries {
  const epochs = new Map<number, EpochMetrics>()
  const batches = new Map<number, BatchPoint>()
  for (const record of records) {
    if (record.type === 'epoch') epochs.set(record.epoch, record)
    else if (record.logged) {
      const point = batchPoint(record)
      batches.set(point.step, point)
    }
  }
  return { epochs: [...epochs.values()].sort((a, b) => a.epoch - b.epoch), batches: [...batches.values()].sort((a, b) => a.x - b.x) }
}
