/** A run's metrics as chart series: from metrics.jsonl records, extended by events. */
import type { EpochMetrics, MetricsRecord } from '../../../shared/metrics'

/** A run's figures for charts: one entry per epoch, one per batch (x = fractional epoch). */
export interface RunSeries {
  epochs: EpochMetrics[]
  batches: { x: number; loss: number; acc: number }[]
  /** Bumped whenever points are added (in copies handed out by seriesOf). */
  version?: number
}

/** Builds a run's series from its metrics.jsonl records (an epoch logged twice keeps its last line). */
export function seriesFromRecords(records: readonly MetricsRecord[]): RunSeries {
  const epochs = new Map<number, EpochMetrics>()
  const batches: RunSeries['batches'] = []
  for (const record of records) {
    if (record.type === 'epoch') epochs.set(record.epoch, record)
    else if (record.logged) batches.push({ x: record.epoch - 1 + record.batch / record.batchesPerEpoch, loss: record.loss, acc: record.acc })
  }
  batches.sort((a, b) => a.x - b.x)
  return { epochs: [...epochs.values()].sort((a, b) => a.epoch - b.epoch), batches }
}
