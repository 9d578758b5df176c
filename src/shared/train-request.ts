import type { BatchMetrics, EpochMetrics, TrainSummary } from './metrics'
import type { TrainConfig } from './train-config'

/** A request to train one model from scratch on a set of classes, outside any project. */
export interface TrainRequest {
  /** `demo`, `cifar10:<dir>`, `cifar100:<dir>`, `folder:<dir>`. */
  dataset: string
  /** Class names to train on (labels in this order); all classes when omitted. */
  classes?: string[]
  /** Overrides of the default configuration (validated; unknown keys are errors). */
  config: Partial<TrainConfig>
  /** Output folder: `run.json`, `metrics.jsonl`, `best/`, `last/`. */
  outDir: string
}

/** A request to run (or resume) one planned run of a project: `runs/<runId>/run.json` says what. */
export interface PlannedRunRequest {
  projectDir: string
  runId: string
}

/** Either kind of training job the trainer process accepts. */
export type TrainJobRequest = TrainRequest | PlannedRunRequest

/** Whether a job request names a planned project run. */
export function isPlannedRunRequest(request: TrainJobRequest): request is PlannedRunRequest {
  return 'runId' in request
}

/** How far loading a run's data has got: the reader's step (`scan`, `read`, `decode`), `done` of `total` in its unit (records, files). */
export interface DataProgress {
  phase: string
  done: number
  total: number
}

/** What the engine reports while a training job runs. */
export type TrainEvent =
  | { type: 'status'; phase: 'loading-data' | 'building-model' | 'training' | 'saving'; message: string }
  | ({ type: 'data-progress' } & DataProgress)
  | { type: 'batch'; metrics: BatchMetrics }
  | { type: 'epoch'; metrics: EpochMetrics }

/** The end of a training job. */
export interface TrainOutcome extends TrainSummary {
  backend: string
  device: string
  /** Folder of the best-validation weights (tfjs Layers format). */
  checkpoint: string
  notes: string[]
}
