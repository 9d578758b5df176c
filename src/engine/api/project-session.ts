import { existsSync } from 'node:fs'
import { cp, readdir, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { ProjectStatus } from '../../shared/cluster-status'
import type { ExperimentPlan, ProjectView, SimilarityMatrixInput, SweepStatus, TransferCurveInput, WorkbenchEvent } from '../../shared/contract'
import { ApiError } from '../../shared/contract-errors'
import type { Experiment, ProjectManifest } from '../../shared/project'
import { checkProjectFolder } from '../project/project-folder'
import { withProjectLock } from '../project/project-lock'
import { isRunBusyMessage, RunBusyError, runLockHolder } from '../project/run-lock'
import { createProject, listRuns, PROJECT_FILE, readProject, runDir, writeProject } from '../project/project-store'
import { similarityMatrix, transferCurve, type TransferCurve } from '../project/results'
import { runSlurmCommand, type SlurmRunner } from '../slurm/slurm-commands'
import { readProjectStatus } from '../slurm/status'
import { listSubmissions } from '../slurm/submissions'
import { planExperimentWithWarnings } from '../train/plan-sweep'
import { describeRun } from '../project/run-record'
import { writeProjectPlan, sweepProject } from '../train/sweep'
import { JobRegistry } from './jobs'
import type { RunManager } from './run-manager'
import { addRecentProject, type SettingsStore } from './settings-store'

export interface ProjectSessionOptions {
  runs: RunManager
  /** The session's job registry (one of its own when omitted): a sweep is a job of it. */
  jobs?: JobRegistry
  settings: SettingsStore
  emit: (event: WorkbenchEvent) => void
  /** Sweeps by project folder, shared by the server's sessions (one of its own when omitted). */
  sweeps?: SweepBook
  /** The folder open from the start (a new client starts in the project opened last). */
  initialDir?: string | null
}

/** One project folder's sweep: its status, and its job while it runs. */
export interface SweepSlot {
  status: SweepStatus
  jobId: string | null
}
export type SweepBook = Map<string, SweepSlot>

/**
 * The open project of an API session: open/create/close, experiments, sweeps and results. The
 * folder on disk is the truth — every answer is read from it — so a project written by the CLI, a
 * Slurm task or another window shows as it is.
 */
export class ProjectSession {
  private dir: string | null = null
  /** Sweeps by project folder, shared by every session of the server: a tab that reloads, or a second window on the same project, sees the sweep that runs there. */
  private readonly sweeps: SweepBook
  private readonly jobs: JobRegistry

  constructor(private readonly options: ProjectSessionOptions) {
    this.jobs = options.jobs ?? new JobRegistry(options.emit)
    this.sweeps = options.sweeps ?? new Map()
    this.dir = options.initialDir ?? null
  }

  /** The sweep of a project folder (idle until one starts there). */
  private slotOf(dir: string): SweepSlot {
    let slot = this.sweeps.get(dir)
    if (!slot) {
      slot = { status: { state: 'idle', index: 0, total: 0, currentRunId: null, message: '', projectDir: dir }, jobId: null }
      this.sweeps.set(dir, slot)
    }
    return slot
  }

  /** The open project's sweep status (idle with no project open). */
  private get sweep(): SweepStatus {
    return this.dir ? this.slotOf(this.dir).status : { state: 'idle', index: 0, total: 0, currentRunId: null, message: '' }
  }

  /** The open project's folder, if any. */
  get current(): string | null {
    return this.dir
  }

  /** Creates a project in an empty (or new) folder and opens it. */
  async create(dir: string, name?: string): Promise<ProjectView> {
    const abs = await checkProjectFolder(dir)
    if (existsSync(join(abs, PROJECT_FILE))) throw new ApiError('invalid-request', `${abs} already holds a project; open it instead`)
    await createProject(abs, name ?? basename(abs))
    return this.open(abs)
  }

  /** Opens a project folder (errors name the file and problem; nothing is written on failure). */
  async open(dir: string): Promise<ProjectView> {
    const abs = await checkProjectFolder(dir)
    // A folder that is gone (moved, deleted, an unmounted disk) is said so, not "project.json is missing".
    if (!existsSync(abs)) throw new ApiError('not-found', `${abs}: the project folder does not exist (moved, renamed or deleted?)`)
    const view = await this.view(abs)
    this.dir = abs
    addRecentProject(this.options.settings, abs)
    this.emitChanged(view)
    return view
  }

  /** Closes the project (a running sweep stops after its current batch). */
  close(): void {
    if (this.sweep.state === 'running') this.cancelSweep()
    this.dir = null
    this.options.emit({ type: 'project:changed', project: null })
  }

  /** The open project as the UI shows it, or null. */
  async get(): Promise<ProjectView | null> {
    return this.dir ? this.view(this.dir) : null
  }

  /** Copies the project to a new folder and opens the copy. */
  async saveAs(dir: string): Promise<ProjectView> {
    const from = this.require()
    const to = await checkProjectFolder(dir)
    if (existsSync(join(to, PROJECT_FILE))) throw new ApiError('invalid-request', `${to} already holds a project`)
    // Nothing in the target is ever overwritten: only a new or empty folder will do.
    const present = existsSync(to) ? await readdir(to) : []
    if (present.length > 0) {
      const shown = present.slice(0, 3).join(', ') + (present.length > 3 ? ` and ${present.length - 3} more` : '')
      throw new ApiError('invalid-request', `${to} is not empty (it holds ${shown}); Save As copies into a new or empty folder only, so nothing there is overwritten`)
    }
    // force: false, or errorOnExist is ignored and a file that appeared meanwhile would be overwritten.
    await cp(from, to, { recursive: true, force: false, errorOnExist: true })
    return this.open(to)
  }

  /** Plans an experiment without saving it: the runs it needs and warnings (for the designer). */
  plan(experiment: Experiment): ExperimentPlan {
    const { runs, warnings } = planExperimentWithWarnings(experiment)
    return { warnings, runs: runs.map((r) => ({ id: r.id, kind: r.kind, variant: r.variant, n: r.n, from: r.from, to: r.to, epochs: r.config.epochs })) }
  }

  /** Adds or replaces (by id) an experiment in project.json and plans its runs into runs/. */
  async saveExperiment(experiment: Experiment): Promise<ProjectView> {
    const dir = this.require()
    this.plan(experiment) // validates before anything is written
    // Under the project lock: a CLI sweep or Slurm submission may be updating project.json too.
    await withProjectLock(dir, async () => {
      const manifest = await readProject(dir)
      const others = manifest.experiments.filter((e) => e.id !== experiment.id)
      const next: ProjectManifest = {
        ...manifest,
        experiments: [...others, experiment],
        datasets: manifest.datasets.includes(experiment.dataset) ? manifest.datasets : [...manifest.datasets, experiment.dataset]
      }
      await writeProject(dir, next)
    })
    await writeProjectPlan(dir)
    const view = await this.view(dir)
    this.emitChanged(view)
    return view
  }

  /** Removes an experiment from project.json (its runs stay on disk, listed as before). */
  async deleteExperiment(id: string): Promise<ProjectView> {
    const dir = this.require()
    await withProjectLock(dir, async () => {
      const manifest = await readProject(dir)
      if (!manifest.experiments.some((e) => e.id === id)) throw new ApiError('not-found', `no experiment ${id} in ${dir}`)
      await writeProject(dir, { ...manifest, experiments: manifest.experiments.filter((e) => e.id !== id) })
    })
    const view = await this.view(dir)
    this.emitChanged(view)
    return view
  }

  /**
   * Runs everything in the project that is not done, one run at a time, bases first, in the background.
   * Progress arrives as `sweep:status` and the runs' own `run:*` events.
   */
  startSweep(): SweepStatus {
    const dir = this.require()
    // Captured: the sweep reports on its own folder even if this session opens another meanwhile.
    const slot = this.slotOf(dir)
    if (slot.status.state === 'running') throw new ApiError('busy', 'a sweep is already running in this project')
    const status = (next: SweepStatus): { event: WorkbenchEvent; keep: true } => {
      slot.status = { ...next, projectDir: dir }
      return { event: { type: 'sweep:status', status: slot.status }, keep: true }
    }
    let signalOfSweep: AbortSignal | undefined
    const stopped = (): boolean => signalOfSweep?.aborted ?? false
    slot.jobId = this.jobs.start<SweepStatus, unknown>(
      'sweep',
      ({ signal, progress }) => {
        signalOfSweep = signal
        return sweepProject(
          dir,
          async (request) => {
            // After the runs the user queued; nothing starts if the sweep was stopped while it waited.
            const run = await this.options.runs.resumeOrStart(request.projectDir, request.runId, () => signal.aborted)
            const end = await run.ended
            if (end.outcome) return end.outcome
            // A run another process took first comes back as 'busy': the sweep leaves it to that process.
            const error = new Error(end.error?.message ?? `run ${end.runId} ${end.status}`)
            if (end.error?.code === 'busy' && isRunBusyMessage(end.error.message)) error.name = 'RunBusyError'
            throw error
          },
          (event) => {
            if (event.type === 'run-start') progress({ ...slot.status, index: event.index, total: event.total, currentRunId: event.run.id, message: `run ${event.index} of ${event.total}` })
            // Runs another process trains (a CLI sweep, a Slurm task, another window) are left to it, and said so.
            if (event.type === 'run-busy') progress({ ...slot.status, message: `${describeRun(event.run)}: ${event.reason}` })
            if (event.type === 'waiting') progress({ ...slot.status, currentRunId: null, message: event.message })
            if (event.type === 'run-end' || event.type === 'run-skipped' || event.type === 'run-busy') void this.view(dir).then((view) => this.emitChanged(view), () => undefined)
          },
          () => signal.aborted
        )
      },
      {
        started: () => status({ state: 'running', index: 0, total: 0, currentRunId: null, message: 'planning' }).event,
        progress: status,
        done: () => status({ ...slot.status, state: stopped() ? 'cancelled' : 'done', currentRunId: null, message: stopped() ? 'stopped; resume continues' : 'all runs done' }).event,
        failed: (error, cancelled) => status({ ...slot.status, state: cancelled ? 'cancelled' : 'failed', currentRunId: null, message: (error as Error).message }).event,
        ended: () => this.jobs.prune('sweep', 1)
      }
    )
    return slot.status
  }

  /** Stops the sweep after the current run's batch; the run stays resumable. */
  cancelSweep(): SweepStatus {
    if (!this.dir) return this.sweep
    const slot = this.slotOf(this.dir)
    if (slot.status.state !== 'running') return slot.status
    if (slot.jobId) this.jobs.cancel(slot.jobId)
    if (slot.status.currentRunId) this.options.runs.cancel(slot.status.currentRunId)
    return slot.status
  }

  sweepStatus(): SweepStatus {
    return this.sweep
  }

  /**
   * The project's runs merged with Slurm's view of their jobs, or null when the project was never
   * submitted to Slurm (then Slurm is not asked at all). Without Slurm's commands here the rows follow
   * the run folders (`schedulerAvailable` false, with a note saying so).
   */
  async clusterStatus(run: SlurmRunner = runSlurmCommand): Promise<ProjectStatus | null> {
    const dir = this.require()
    if ((await listSubmissions(dir)).length === 0) return null
    return readProjectStatus(dir, run)
  }

  /**
   * Deletes a run's folder from the open project. Refuses a run that is training, and a base whose
   * weights other runs were transferred from (delete those first), naming them.
   */
  async deleteRun(runId: string, activeRunId: string | null): Promise<ProjectView> {
    const dir = this.require()
    if (runId === activeRunId) throw new ApiError('busy', `run ${runId} is training; cancel it first`)
    const all = await listRuns(dir)
    if (!all.some((r) => r.id === runId)) throw new ApiError('not-found', `no run ${runId} in ${dir}`)
    const holder = await runLockHolder(dir, runId)
    if (holder) throw new ApiError('busy', `${new RunBusyError(runId, holder).message}; stop it first`)
    const dependents = all.filter((r) => r.sourceRunId === runId)
    if (dependents.length > 0) {
      throw new ApiError('invalid-request', `runs ${dependents.map((r) => r.id).join(', ')} were transferred from ${runId}; delete them first`)
    }
    await rm(runDir(dir, runId), { recursive: true, force: true })
    const view = await this.view(dir)
    this.emitChanged(view)
    return view
  }

  /** Best validation accuracy vs n per variant, with the baseline. */
  async transferCurve({ from, to }: TransferCurveInput): Promise<TransferCurve> {
    return transferCurve(await listRuns(this.require()), from, to)
  }

  /** Source × target accuracy at depth n. */
  async similarityMatrix({ n, variant }: SimilarityMatrixInput): Promise<ReturnType<typeof similarityMatrix>> {
    return similarityMatrix(await listRuns(this.require()), n, variant)
  }

  private require(): string {
    if (!this.dir) throw new ApiError('invalid-request', 'no project is open')
    return this.dir
  }

  private async view(dir: string): Promise<ProjectView> {
    const manifest = await readProject(dir)
    return { dir, manifest, runs: await listRuns(dir) }
  }

  private emitChanged(project: ProjectView): void {
    this.options.emit({ type: 'project:changed', project })
  }
}
