/**
 * The workbench API: every request the UI makes and every event it receives. Electron main and serve
 * mode implement it (`src/engine/api`), the preload and the WebSocket carry its messages, the renderer
 * calls it. birpc runs it over either transport.
 *
 * Rules: a request takes at most one input object (validated on the server: the renderer is not
 * trusted) and returns a promise; long work returns an id at once and reports through events, never
 * through a promise that waits minutes. Failures reject with an `ApiError` (see contract-errors.ts).
 */
import type { BackendInfo } from './backend'
import type { ProjectStatus } from './cluster-status'
import type { ApiErrorData } from './contract-errors'
import type { RunEvaluation } from './evaluation'
import type { FeatureProgress, FeatureStudyRequest, FeatureStudyResult } from './features'
import type {
  DownloadDatasetInput,
  ImportDatasetInput,
  LibraryDataset,
  LibraryJob,
  LibraryJobRef,
  LibraryListing,
  RemoveDatasetInput
} from './library'
import type { VizInput, VizKind, VizOutput } from './viz-calls'
import type { BatchMetrics, EpochMetrics, MetricsRecord } from './metrics'
import type { Experiment, ProjectManifest, RunKind, RunRecord as ProjectRun, RunStatus as StoredRunStatus } from './project'
import type { TransferVariant } from './transfer'
import type { TrainConfig } from './train-config'
import type { DataProgress, TrainOutcome } from './train-request'

/** Bumped when a request or event changes incompatibly; the client checks it on connect. */
export const CONTRACT_VERSION = 1

/** The state of the engine, shown in the status bar and Help → About. */
export interface EngineStatus {
  /** The trainer process: not started yet (it starts lazily), ready, running a job, or down after a crash. */
  trainer: 'stopped' | 'starting' | 'idle' | 'busy' | 'crashed'
  trainerPid: number | null
  /** Times the trainer was restarted after a crash this session. */
  restarts: number
  /** The last crash, if any. */
  lastCrash: { at: string; message: string; runId: string | null } | null
  activeRunId: string | null
  /** 'probing' until the engine has found out which backend it trains on. */
  backendState: 'unknown' | 'probing' | 'known' | 'failed'
  backend: EngineBackend | null
  memory: EngineMemory
}

/** Which tfjs backend and device training uses. */
export type EngineBackend = BackendInfo

export interface EngineMemory {
  systemTotalBytes: number
  systemFreeBytes: number
  /** Resident memory of the process serving the API (Electron main or `serve`). */
  hostRssBytes: number
  /** Resident memory of the trainer process, where the platform tells (null otherwise). */
  trainerRssBytes: number | null
}

/** A dataset the workbench can train on. */
export interface DatasetSummary {
  /** The id training requests use: `demo`, `cifar10:<dir>`, `cifar100:<dir>`, `cifar100-coarse:<dir>`, `folder:<dir>`. */
  id: string
  kind: 'demo' | 'cifar10' | 'cifar100' | 'cifar100-coarse' | 'folder'
  name: string
  /** Folder on disk (null for the built-in demo). */
  location: string | null
  /** Class names in label order (read without decoding images). */
  classNames: string[]
}

/** One sample image, small enough to show in a list. */
export interface DatasetSample {
  split: 'train' | 'test'
  /** `data:image/png;base64,…` at the dataset's stored size (CIFAR: 32×32). */
  dataUrl: string
  source: string
}

export interface DatasetClassDetails {
  name: string
  /** Label index in the dataset's own order. */
  label: number
  samples: DatasetSample[]
  /** Images of the class per split, where the engine can count them without decoding (image folders). */
  counts?: { train: number; test: number }
}

/** What `inspectDataset` returns. */
export interface DatasetDetails {
  id: string
  name: string
  width: number
  height: number
  classes: DatasetClassDetails[]
  /** Which splits the source has. */
  splits: ('train' | 'test')[]
  /** Files a lenient read skipped, with the reason. */
  skipped: { source: string; reason: string }[]
}

export interface InspectDatasetInput {
  id: string
  /** Sample thumbnails per class (default 4, at most 16). */
  samplesPerClass?: number
}

/** Starts one training run from scratch. The server picks the output folder; the client never names paths to write. */
export interface StartRunInput {
  dataset: string
  /** Classes to train on, labels in this order; all classes when omitted. */
  classes?: string[]
  /** Overrides of the default configuration; unknown keys and bad values are rejected. */
  config?: Partial<TrainConfig>
  /** A label for lists (default: arch, width and dataset). */
  name?: string
}

/**
 * A run's status as run.json records it ('planned' never reaches a started run), plus 'cancelling' while a cancel is under way
 * and 'queued' while it waits for the run training now to end (it was resumed while another run trained).
 */
export type RunStatus = Exclude<StoredRunStatus, 'planned'> | 'cancelling' | 'queued'
export type RunPhase = 'starting' | 'loading-data' | 'building-model' | 'training' | 'saving'

/** A training run started in this session, as lists and headers show it. */
export interface RunSummary {
  runId: string
  name: string
  dataset: string
  classes: string[] | null
  /** The overrides asked for (the full frozen config is in the run's run.json). */
  config: Partial<TrainConfig>
  status: RunStatus
  /** What a running run is doing now (null once it has ended). */
  phase: RunPhase | null
  message: string
  /** The run's folder: run.json, metrics.jsonl, best/, last/. */
  outDir: string
  /** The tfjs backend and device the run trains on (null until the trainer has chosen). */
  backend: string | null
  device: string | null
  startedAt: string
  finishedAt: string | null
  /** Epochs finished so far. */
  epochsDone: number
  /** The latest training figures (null before the first batch). */
  progress: RunProgress | null
  /** Set when it finished ('done') or was cancelled. */
  outcome: TrainOutcome | null
  /** Set when it failed or was interrupted. */
  error: ApiErrorData | null
  /** Whether a `last/` checkpoint exists to resume from. */
  resumable: boolean
  /** While 'queued': its place among the queued runs (1 = next after the run training now). */
  queuePosition?: number
}

/**
 * Training figures of one batch (throttled; the last batch of every epoch always arrives): the batch's
 * metrics record without its log fields, and the run's number of epochs.
 */
export interface RunProgress extends Omit<BatchMetrics, 'type' | 'logged'> {
  epochs: number
}

export interface RunRef {
  runId: string
}

/** Which process serves the API, and its versions (Help → About, and a client's sanity check). */
export interface AppInfo {
  name: string
  version: string
  contractVersion: number
  host: 'electron' | 'serve' | 'test'
  platform: string
  versions: Record<string, string>
}

/** A project folder the user opened before (most recent first). */
export interface RecentProject {
  path: string
  name: string
  openedAt: string
}

/** An open project: its manifest and every run in its folder. */
export interface ProjectView {
  dir: string
  manifest: ProjectManifest
  runs: ProjectRun[]
}

export interface ProjectDirInput {
  /** Absolute folder (chosen in a native dialog in the app, typed in serve mode). */
  dir: string
  name?: string
}

/** The runs an experiment needs, before anything is written (the designer's preview and time estimate). */
export interface ExperimentPlan {
  warnings: string[]
  runs: { id: string; kind: RunKind; variant: TransferVariant | null; n: number | null; from: string | null; to: string; epochs: number }[]
}

export interface ExperimentInput {
  experiment: Experiment
}

/** The project's sweep: running everything not yet done, one run at a time. */
export interface SweepStatus {
  state: 'idle' | 'running' | 'done' | 'cancelled' | 'failed'
  /** 1-based index of the current run among the pending ones, and how many were pending. */
  index: number
  total: number
  currentRunId: string | null
  message: string
  /** The project folder the sweep runs in (a client shows only its own project's sweep). */
  projectDir?: string
}

export interface TransferCurveInput {
  from: string
  to: string
}

/** Best validation accuracy vs n per variant for one target group, with the base baseline. */
export interface TransferCurveData {
  to: string
  from: string
  baseline: { runId: string; bestValAcc: number | null } | null
  series: { variant: TransferVariant; points: { n: number; bestValAcc: number | null; runId: string; status: StoredRunStatus }[] }[]
}

export interface SimilarityMatrixInput {
  n: number
  variant?: TransferVariant
}

/** Source × target accuracy at one depth, with each target's baseline. */
export interface SimilarityMatrixData {
  sources: string[]
  targets: string[]
  values: (number | null)[][]
  baselines: (number | null)[]
}

/**
 * Requests: implemented by main (and serve), called by the renderer.
 * TODO(projects, experiments, sweeps, results, visualizations, dataset import/download): these join the
 * contract with the engine work that backs them.
 */
export interface WorkbenchApi {
  /** App name, version and contract version. */
  getAppInfo(): Promise<AppInfo>
  /** Trainer process, backend, device, memory. Starts finding out the backend if not known yet (reported by `engine:status`). */
  getEngineStatus(): Promise<EngineStatus>
  /** The datasets the workbench knows: the built-in demo and those found in the dataset folders. */
  listDatasets(): Promise<DatasetSummary[]>
  /** Classes with a few sample thumbnails each. */
  inspectDataset(input: InspectDatasetInput): Promise<DatasetDetails>
  /** Starts a run in the trainer process; returns its id at once. Progress comes as `run:*` events. */
  startRun(input: StartRunInput): Promise<RunRef>
  /** Asks a run to stop after the current batch (weights and metrics kept); the trainer is killed if it does not. */
  cancelRun(input: RunRef): Promise<void>
  /** Continues an interrupted or cancelled run from its `last/` checkpoint. */
  resumeRun(input: RunRef): Promise<RunRef>
  /** Runs started this session, newest first. */
  listRuns(): Promise<RunSummary[]>
  /** The run's metrics.jsonl records so far (epoch lines and logged batch lines). */
  getRunMetrics(input: RunRef): Promise<MetricsRecord[]>
  /** Project folders opened before, most recent first. */
  getRecentProjects(): Promise<RecentProject[]>
  /** Creates a project in a new or empty folder and opens it. */
  createProject(input: ProjectDirInput): Promise<ProjectView>
  /** Opens a project folder (a broken or newer project.json is an error naming it; nothing is overwritten). */
  openProject(input: ProjectDirInput): Promise<ProjectView>
  /** The open project, or null. */
  getProject(): Promise<ProjectView | null>
  /** Copies the open project to a new folder and opens the copy. */
  saveProjectAs(input: ProjectDirInput): Promise<ProjectView>
  closeProject(): Promise<void>
  /** The runs an experiment would need, and warnings (overlapping groups …), without writing anything. */
  planExperiment(input: ExperimentInput): Promise<ExperimentPlan>
  /** Adds or replaces an experiment in the open project and plans its runs. */
  saveExperiment(input: ExperimentInput): Promise<ProjectView>
  deleteExperiment(input: { id: string }): Promise<ProjectView>
  /** Runs everything in the open project not yet done (bases first); progress via `sweep:status` and `run:*`. */
  startSweep(): Promise<SweepStatus>
  /** Stops the sweep after the current batch; `startSweep` later continues where it stopped. */
  cancelSweep(): Promise<SweepStatus>
  getSweepStatus(): Promise<SweepStatus>
  /**
   * The open project's runs merged with what Slurm says about their jobs (queued, running, done, failed
   * with the exit code), progress read from each run's metrics.jsonl. Null when the project was never
   * submitted to Slurm (nothing is asked of Slurm then). Where Slurm's commands are missing (a laptop
   * with the project folder mounted) `schedulerAvailable` is false and the rows follow the run folders.
   */
  getClusterStatus(): Promise<ProjectStatus | null>
  getTransferCurve(input: TransferCurveInput): Promise<TransferCurveData>
  getSimilarityMatrix(input: SimilarityMatrixInput): Promise<SimilarityMatrixData>
  /**
   * Looks inside a run of the open project: filters, histograms, activation maps, top images, base vs
   * transferred, predictions, confusion cells — as data, and as a full-resolution PNG when `png` is set.
   * Runs in the trainer process between training batches.
   */
  runViz<K extends VizKind>(input: VizInput<K>): Promise<VizOutput<K>>
  /**
   * Starts a frozen-feature study on the open project (cached activations, few-shot curve, layer probes,
   * temperature): an id at once, then `features:progress` and `features:done` / `features:failed`.
   */
  startFeatureStudy(input: FeatureStudyRequest): Promise<{ jobId: string }>
  cancelFeatureStudy(input: { jobId: string }): Promise<void>
  /** Deletes a run of the open project (not while it trains, not a base others were transferred from). */
  deleteRun(input: RunRef): Promise<ProjectView>
  /** Confusion matrix and per-class accuracy of a run's best weights (computed in the trainer, then cached). */
  getRunEvaluation(input: RunRef): Promise<RunEvaluation>
  /** The dataset library: every downloaded or imported dataset, and the data folder. */
  listLibrary(): Promise<LibraryListing>
  /** Starts downloading CIFAR-10 or CIFAR-100; returns a job id at once. Progress comes as `library:job` events. */
  downloadDataset(input: DownloadDatasetInput): Promise<LibraryJobRef>
  /** Starts importing an archive or a folder; returns a job id at once. Progress comes as `library:job` events. */
  importDataset(input: ImportDatasetInput): Promise<LibraryJobRef>
  /** Cancels a download (its partial file is kept, so a new download resumes) or an import. */
  cancelLibraryJob(input: LibraryJobRef): Promise<void>
  /** Downloads and imports of this session, newest first (running ones included), for a view opened mid-way. */
  listLibraryJobs(): Promise<LibraryJob[]>
  /** Removes a dataset from the library, and its files when asked and the library made them. */
  removeDataset(input: RemoveDatasetInput): Promise<LibraryDataset>
}

/** The request names, for validation and for listing. */
export type WorkbenchRequestName = keyof WorkbenchApi

/** Events: pushed by the server to every connected client. Discriminated on `type`. */
export type WorkbenchEvent =
  | ({ type: 'run:progress'; runId: string } & RunProgress)
  /** Loading the run's data, before its first batch (the monitor shows it under the run). */
  | ({ type: 'run:data-progress'; runId: string } & DataProgress)
  | { type: 'run:epoch'; runId: string; metrics: EpochMetrics }
  | { type: 'run:status'; run: RunSummary }
  | { type: 'engine:status'; status: EngineStatus }
  /** A library download or import changed state or made progress: bytes, rate and ETA (progress at most ~10 a second). */
  | { type: 'library:job'; job: LibraryJob }
  /** A dataset was added to or removed from the library. */
  | { type: 'library:changed'; listing: LibraryListing }
  | { type: 'features:progress'; jobId: string; progress: FeatureProgress }
  | { type: 'features:done'; jobId: string; result: FeatureStudyResult }
  | { type: 'features:failed'; jobId: string; error: ApiErrorData; cancelled: boolean }
  | { type: 'project:changed'; project: ProjectView | null }
  | { type: 'sweep:status'; status: SweepStatus }
  /** A native menu item or the OS asked for something only the UI can do (e.g. open this project). */
  | { type: 'app:command'; command: AppCommand; path?: string }

export type AppCommand = 'project:new' | 'project:open' | 'project:save-as' | 'project:close'

export type WorkbenchEventType = WorkbenchEvent['type']

/** The functions the server calls on each client (fire-and-forget). */
export interface WorkbenchClientFunctions {
  onEvent(event: WorkbenchEvent): void
}

/** The one Electron IPC channel the preload and main use to carry the contract's messages. */
export const IPC_CHANNEL = 'workbench:message'
