import { AsyncLocalStorage } from 'node:async_hooks'
import { existsSync } from 'node:fs'
import { platform } from 'node:os'
import { join } from 'node:path'
import { CONTRACT_VERSION, type AppInfo, type EngineBackend, type EngineStatus, type ProjectView, type WorkbenchApi, type WorkbenchEvent, type WorkbenchRequestName } from '../../shared/contract'
import type { VizInput, VizKind, VizOutput } from '../../shared/viz-calls'
import type { LaunchProbe } from './backend-probe'
import { probeBackend } from './backend-probe'
import { measureMemory } from './engine-status'
import { resolveDataDir } from '../datasets-library/data-dir'
import type { LibraryService } from './library-handlers'
import { parseRequestArgs } from './request-schemas'
import { FeatureJobs } from './feature-jobs'
import { JobRegistry } from './jobs'
import { PROJECT_FILE } from '../project/project-store'
import { ProjectSession, type SweepBook } from './project-session'
import { RunManager } from './run-manager'
import type { SettingsStore } from './settings-store'
import { toApiErrorData } from './to-api-error'
import { TrainerSupervisor, type LaunchTrainer } from './trainer-supervisor'

export interface WorkbenchServerOptions {
  /** Which process serves the API (shown in About). */
  host: AppInfo['host']
  appVersion: string
  /** Folder for runs started outside a project. */
  runsDir: string
  launchTrainer: LaunchTrainer
  /** Starts the backend probe; without one the backend is known only once a run reports it. */
  launchProbe?: LaunchProbe
  settings: SettingsStore
  /** Extra folders searched for datasets (besides the built-in demo). */
  datasetDirs?: string[]
  /** The dataset library's folder (downloads, extracted archives, library.json); default: resolveDataDir(). */
  dataDir?: string
  cancelGraceMs?: number
  progressIntervalMs?: number
}

/** A request as it arrives off the wire: untrusted arguments in, a value or an ApiErrorData out. */
export type WireHandler = (...args: unknown[]) => Promise<unknown>

/** One client's own view of the server: its requests (its own open project) and its filter on events. */
export interface ClientSession {
  readonly handlers: Readonly<Record<WorkbenchRequestName, WireHandler>>
  accepts(event: WorkbenchEvent): boolean
}

/**
 * Whether an event concerns a client with `dir` open: a project's changes and its sweep's status go
 * to the clients that have that project open (a closed project's null to those with none open);
 * everything else (runs, engine, library) to every client.
 */
export function isEventFor(event: WorkbenchEvent, dir: string | null): boolean {
  if (event.type === 'project:changed') return event.project ? event.project.dir === dir : dir === null
  if (event.type === 'sweep:status') return event.status.projectDir === undefined || event.status.projectDir === dir
  return true
}

/** The contract's server side, independent of the transport. */
export interface WorkbenchServer {
  /** The requests, each validating its input and rejecting only with plain ApiErrorData objects. */
  readonly handlers: Readonly<Record<WorkbenchRequestName, WireHandler>>
  /** Subscribes to every event; returns the unsubscribe function. */
  onEvent(listener: (event: WorkbenchEvent) => void): () => void
  /**
   * A session of its own for one client (an Electron window, a browser tab): its requests, and which
   * of the server's events are for it (project events only for the project it has open).
   */
  connect?(): ClientSession
  /** Sends an event to every client (main uses it for menu commands). */
  broadcast(event: WorkbenchEvent): void
  engineStatus(): EngineStatus
  /** Stops the trainer process (a running run ends as interrupted, resumable). */
  shutdown(): Promise<void>
}

/**
 * Builds the API from the engine: trainer supervision, runs, datasets, engine status. Plain Node,
 * no electron: Electron main, `serve` and tests all wrap this same object.
 */
export function createWorkbenchServer(options: WorkbenchServerOptions): WorkbenchServer {
  const listeners = new Set<(event: WorkbenchEvent) => void>()
  const broadcast = (event: WorkbenchEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event)
      } catch (error) {
        // One broken connection must not stop events to the others.
        process.stderr.write(`workbench: event listener failed: ${(error as Error).message}\n`)
      }
    }
  }

  let backendState: EngineStatus['backendState'] = 'unknown'
  let backend: EngineBackend | null = null
  let crashRunId: string | null = null

  const supervisor = new TrainerSupervisor({
    launch: options.launchTrainer,
    cancelGraceMs: options.cancelGraceMs,
    onChange: () => emitEngineStatus(),
    onCrash: () => {
      crashRunId = runs.active
    }
  })
  // Long work of every kind (runs, sweeps, feature studies, library jobs): ids, cancel, progress events.
  const jobs = new JobRegistry(broadcast, options.progressIntervalMs)
  // Runs started with no project open go to the scratch folder, laid out like a project's runs/.
  const runs: RunManager = new RunManager({
    supervisor,
    // The project of the client whose request this is (each window or tab has its own), else the default session's.
    projectDir: () => (requestSession.getStore() ?? project).current ?? options.runsDir,
    emit: broadcast,
    jobs,
    onActiveChange: () => emitEngineStatus()
  })

  // Each client (window, browser tab) has its own open project; sweeps are kept by folder, shared by all.
  const sweeps: SweepBook = new Map()
  /** The folder opened last by any client: where a new window or tab starts (as the desktop app reopens its last project). */
  let lastOpened: string | null = null
  const newSession = (initialDir: string | null = null): ProjectSession =>
    new ProjectSession({ runs, jobs, settings: options.settings, emit: broadcast, sweeps, initialDir })
  /** The default session: `handlers` (main's own calls, tests); every connected client gets one of its own. */
  const project = newSession()
  /** The session of the request being served, for what reads the open project deep inside (the run manager). */
  const requestSession = new AsyncLocalStorage<ProjectSession>()
  const features = new FeatureJobs(supervisor, jobs)

  function engineStatus(): EngineStatus {
    const crash = supervisor.lastCrash
    return {
      trainer: supervisor.state,
      trainerPid: supervisor.pid,
      restarts: supervisor.restarts,
      lastCrash: crash
        ? { at: crash.at, message: `the trainer process stopped unexpectedly (${crash.signal ? `signal ${crash.signal}` : `exit code ${crash.code}`})`, runId: crashRunId }
        : null,
      activeRunId: runs.active,
      backendState,
      backend,
      memory: measureMemory(supervisor.pid)
    }
  }

  function emitEngineStatus(): void {
    broadcast({ type: 'engine:status', status: engineStatus() })
  }

  /** Finds out the backend once, in the background; the answer arrives as engine:status. */
  function startProbe(): void {
    if (!options.launchProbe || backendState === 'probing' || backendState === 'known') return
    backendState = 'probing'
    probeBackend(options.launchProbe).then(
      (info) => {
        backend = info
        backendState = 'known'
        emitEngineStatus()
      },
      (error: unknown) => {
        backendState = 'failed'
        process.stderr.write(`workbench: backend probe failed: ${(error as Error).message}\n`)
        emitEngineStatus()
      }
    )
  }

  // The library keeps its jobs, so it is one object; loaded on first use like the dataset readers.
  let library: Promise<LibraryService> | undefined
  const getLibrary = (): Promise<LibraryService> =>
    (library ??= import('./library-handlers').then((m) =>
      m.createLibraryService({ dataDir: () => resolveDataDir(options.dataDir), emit: broadcast, jobs })
    ))

  /** The contract's requests, with the project ones answered by `project`, one client's session. */
  const buildApi = (project: ProjectSession): WorkbenchApi => ({
    getAppInfo: async () => ({
      name: 'Transfer Workbench',
      version: options.appVersion,
      contractVersion: CONTRACT_VERSION,
      host: options.host,
      platform: `${platform()}-${process.arch}`,
      versions: Object.fromEntries(Object.entries(process.versions).filter(([k]) => ['node', 'electron', 'chrome', 'v8'].includes(k))) as Record<string, string>
    }),
    getEngineStatus: async () => {
      startProbe()
      return engineStatus()
    },
    // Loaded on first use: the dataset readers (and sharp) stay out of the app's start-up.
    listDatasets: async () => {
      const { libraryLocations } = await import('../datasets-library/library-listing')
      const library = await libraryLocations(resolveDataDir(options.dataDir)).catch(() => [] as string[])
      return (await import('./dataset-handlers')).listDatasets([...(options.datasetDirs ?? []), ...library])
    },
    inspectDataset: async (input) => (await import('./dataset-handlers')).inspectDataset(input),
    startRun: (input) => runs.start(input),
    cancelRun: async ({ runId }) => runs.cancel(runId),
    resumeRun: ({ runId }) => runs.resume(runId),
    listRuns: async () => runs.list(),
    getRunMetrics: ({ runId }) => runs.metrics(runId),
    getRecentProjects: async () => options.settings.get('recentProjects'),
    createProject: ({ dir, name }) => opened(project.create(dir, name)),
    openProject: ({ dir }) => opened(project.open(dir)),
    getProject: () => project.get(),
    saveProjectAs: ({ dir }) => opened(project.saveAs(dir)),
    closeProject: async () => {
      if (project.current === lastOpened) lastOpened = null
      project.close()
    },
    planExperiment: async ({ experiment }) => project.plan(experiment),
    saveExperiment: ({ experiment }) => project.saveExperiment(experiment),
    deleteExperiment: ({ id }) => project.deleteExperiment(id),
    startSweep: async () => project.startSweep(),
    cancelSweep: async () => project.cancelSweep(),
    getSweepStatus: async () => project.sweepStatus(),
    getClusterStatus: () => project.clusterStatus(),
    getTransferCurve: (input) => project.transferCurve(input),
    getSimilarityMatrix: (input) => project.similarityMatrix(input),
    deleteRun: ({ runId }) => project.deleteRun(runId, runs.active),
    startFeatureStudy: async (input) => features.start(project.current ?? options.runsDir, input),
    cancelFeatureStudy: async ({ jobId }) => features.cancel(jobId),
    // The task answers for any kind; the kind asked is the kind answered (run-viz-call.ts dispatches on it).
    runViz: <K extends VizKind>(input: VizInput<K>) => supervisor.acquire().runTask('viz', { projectDir: project.current ?? options.runsDir, call: input }) as Promise<VizOutput<K>>,
    getRunEvaluation: ({ runId }) => supervisor.acquire().runTask('evaluateRun', { projectDir: runs.projectDirOf(runId), runId }),
    listLibrary: async () => (await getLibrary()).listLibrary(),
    downloadDataset: async (input) => (await getLibrary()).downloadDataset(input),
    importDataset: async (input) => (await getLibrary()).importDataset(input),
    cancelLibraryJob: async (input) => (await getLibrary()).cancelLibraryJob(input),
    listLibraryJobs: async () => (await getLibrary()).listLibraryJobs(),
    removeDataset: async (input) => (await getLibrary()).removeDataset(input)
  })

  /** Remembers where a new client starts. */
  const opened = async (view: Promise<ProjectView>): Promise<ProjectView> => {
    const done = await view
    lastOpened = done.dir
    return done
  }

  /** One session's requests off the wire: input validated, errors as plain ApiErrorData, run inside the session's context. */
  const wireHandlers = (session: ProjectSession): Record<WorkbenchRequestName, WireHandler> => {
    const api = buildApi(session)
    return Object.fromEntries(
      (Object.keys(api) as WorkbenchRequestName[]).map((name) => [
        name,
        async (...args: unknown[]) => {
          try {
            const parsed = parseRequestArgs(name, args)
            return await requestSession.run(session, () => (api[name] as (...a: unknown[]) => Promise<unknown>)(...parsed))
          } catch (error) {
            const data = toApiErrorData(error)
            if (data.code === 'internal') process.stderr.write(`workbench: ${name} failed: ${(error as Error)?.stack ?? String(error)}\n`)
            // A plain object, so it survives structured clone and JSON alike.
            throw data
          }
        }
      ])
    ) as Record<WorkbenchRequestName, WireHandler>
  }
  const handlers = wireHandlers(project)

  return {
    handlers,
    connect() {
      // A new window or tab starts in the project opened last, if it is still there; from then on its own.
      const start = lastOpened && existsSync(join(lastOpened, PROJECT_FILE)) ? lastOpened : null
      const session = newSession(start)
      return { handlers: wireHandlers(session), accepts: (event) => isEventFor(event, session.current) }
    },
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    broadcast,
    engineStatus,
    shutdown: () => supervisor.shutdown()
  }
}
