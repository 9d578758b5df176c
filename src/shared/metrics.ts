/**
 * The figures a training run reports, as written to `metrics.jsonl` (one object per line) and
 * streamed to the UI. Epochs are 1-based.
 */

/** Logged every k batches (and sent, throttled, as progress). */
export interface BatchMetrics {
  type: 'batch'
  epoch: number
  /** 1-based batch within the epoch. */
  batch: number
  batchesPerEpoch: number
  loss: number
  acc: number
  lr: number
  /** Training images per second over the epoch so far. */
  imagesPerSecond: number
  /** Seconds left for the whole run at the current rate. */
  etaSeconds: number
  /** Whether this batch falls on the logging rhythm (every k batches, and the epoch's last). */
  logged: boolean
}

/** One per epoch, after validation. */
export interface EpochMetrics {
  type: 'epoch'
  epoch: number
  epochs: number
  trainLoss: number
  trainAcc: number
  valLoss: number | null
  valAcc: number | null
  lr: number
  imagesPerSecond: number
  /** Wall-clock seconds of this epoch, validation included. */
  seconds: number
  /** Whether this epoch's weights became the best so far. */
  best: boolean
}

export type MetricsRecord = BatchMetrics | EpochMetrics

/** How a training run ended. */
export interface TrainSummary {
  status: 'done' | 'cancelled'
  epochs: number
  bestValAcc: number | null
  bestEpoch: number | null
  testAcc: number | null
  imagesPerSecond: number
  seconds: number
}
