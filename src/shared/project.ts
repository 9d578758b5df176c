import type { TrainConfig } from './train-config'
import type { TransferVariant } from './transfer'

/** The schema version this build writes; a project with a newer one is refused, never overwritten. */
export const PROJECT_SCHEMA_VERSION = 1

/** `{from, to, variants, n}`: study target group `to` with source group `from`. */
export interface TransferJob {
  from: string
  to: string
  variants: TransferVariant[]
  n: number[]
}

/** An experiment: a dataset, named class groups, and the transfer jobs to run on them. */
export interface Experiment {
  id: string
  name: string
  dataset: string
  /** Group name → class names. */
  groups: Record<string, string[]>
  /** Groups that get a base model even when no transfer needs them. */
  bases: string[]
  transfers: TransferJob[]
  /** Overrides of the default training configuration, shared by every run of the experiment. */
  config: Partial<TrainConfig>
  /**
   * Runs per cell (each base, each variant × n), with seeds seed, seed+1, …; absent means 1. Repeat r
   * trains its transfers from base repeat r. Repeat 0 is the run a single-seed experiment plans.
   */
  repeats?: number
}

/** `project.json`: the manifest. Runs are not listed here; they are the folders under `runs/`. */
export interface ProjectManifest {
  schemaVersion: number
  name: string
  createdAt: string
  datasets: string[]
  experiments: Experiment[]
}

export type RunKind = 'base' | 'transfer'
/**
 * `unreadable`: the run's `run.json` could not be read or is not a run record. Never written: lists
 * show such a run with this status and the reason in `error`, and leave the file as it is.
 */
export type RunStatus = 'planned' | 'running' | 'done' | 'cancelled' | 'failed' | 'interrupted' | 'unreadable'

/** `runs/<id>/run.json`: the frozen config snapshot and everything about how the run went. */
export interface RunRecord {
  id: string
  /** A label for lists, when the user gave one (single runs started from the UI). */
  name?: string
  kind: RunKind
  /** Transfer variant, null for a base run. */
  variant: TransferVariant | null
  /** Transfer depth, null for a base run. */
  n: number | null
  sourceRunId: string | null
  /** Source group (transfers) and target group; a base run has from = null, to = its group. */
  from: string | null
  to: string
  experimentId: string | null
  dataset: string
  classes: string[]
  config: TrainConfig
  seed: number
  backend: string | null
  device: string | null
  /** On wasm, which of the workbench's kernels trained it ("simd+fma", "simd", "off"): speeds differ between them. */
  wasmKernels?: string
  status: RunStatus
  bestValAcc: number | null
  bestEpoch: number | null
  /** Completed epochs. */
  epochs: number
  testAcc: number | null
  imagesPerSecond: number | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  /** Wall-clock seconds spent training, summed over resumes. */
  seconds: number
  error: string | null
  /** Things the user should know about how the run was set up (e.g. a test split used for training). */
  notes: string[]
  /** Where it last ran: this machine's trainer process, or a Slurm array task. */
  executor?: 'local' | 'slurm'
  /** The host that ran it last. */
  node?: string
  /** Slurm: `<arrayJobId>_<taskId>` of the latest attempt, and every attempt, oldest first. */
  slurmJobId?: string
  slurmJobs?: { jobId: string; node: string; startedAt: string; endedAt?: string; state?: string }[]
  /** What happened to the run beyond its status, oldest first: e.g. a damaged checkpoint and what resume did instead. */
  history?: RunHistoryEntry[]
}

/** One event in a run's history. */
export interface RunHistoryEntry {
  at: string
  /**
   * `checkpoint-fallback`: `last/` could not be used in full, and the run resumed from another checkpoint
   * (or from `last/`'s weights with fresh optimizer state); `restarted`: no checkpoint was usable, and the
   * run started again from scratch.
   */
  event: 'checkpoint-fallback' | 'restarted'
  message: string
}
