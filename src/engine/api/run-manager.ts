import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RunPhase, RunProgress, RunRef, RunSummary, StartRunInput, WorkbenchEvent } from '../../shared/contract'
import { ApiError } from '../../shared/contract-errors'
import type { MetricsRecord } from '../../shared/metrics'
import { resolveTrainConfig } from '../../shared/train-config'
import type { RunRecord as StoredRun } from '../../shared/project'
import type { PlannedRunRequest, TrainEvent, TrainOutcome } from '../../shared/train-request'
import { METRICS_FILE, readRun, runDir, writeRun } from '../project/project-store'
import { RunBusyError, runLockHolder } from '../project/run-lock'
import { planSingleRun } from '../project/single-run'
import { describeRun } from '../project/run-record'
import { parseDatasetId } from '../data/load-dataset'
import { TrainerCrashedError, type TrainerHost } from '../process/trainer-host'
import type { JobRegistry } from './jobs'
import { readMetrics } from '../project/metrics-log'
import { toApiErrorData } from './to-api-error'
import type { TrainerSupervisor } from './trainer-supervisor'

export interface RunManagerOptions {
  supervisor: TrainerSupervisor
  /** The open project's folder, or the scratch folder for runs started with no project open. */
  projectDir: () => string
  /** Sends an event of a run that has no job yet (queued before its first start this session). */
  emit: (event: WorkbenchEvent) => void
  /** Called when the active run changes (engine:status). */
  onActiveChange?: () => void
  /** The server's job registry: each run is a job with the run's id (its events go out through it). */
  jobs: JobRegistry
  now?: () => Date
}

interface RunRecord {
  summary: RunSummary
  /** The project (or scratch folder) whose runs/ holds the run. */
  projectDir: string
  jobId: string | null
  /** Settles when the run has ended, however it ended. */
  ended: Promise<RunSummary>
  resolveEnded: (summary: RunSummary) => void
  /** Epochs the run was configured for (batch events do not carry it). */
  epochs: number
}

/** Records in run.json how a run ended when its trainer could not (it was killed). */
async function markEnded(projectDir: string, runId: string, status: 'cancelled' | 'interrupted', message: string): Promise<void> {
  try {
    const run = await readRun(projectDir, runId)
    if (run.status === 'running') await writeRun(projectDir, { ...run, status, error: message })
  } catch {
    // No run.json yet (killed before it was written): nothing to mark.
  }
}

/**
 * The runs of this session: starts them in the trainer process, turns trainer events into contract
 * events (throttled), keeps each run's summary current, and marks a run cut off by a trainer crash
 * as interrupted (resumable when its `last/` checkpoint exists).
 *
 * It is also the one place that decides what trains next: the run training now, then the runs
 * resumed while it trained (queued, first asked first), then the sweep's next run — a sweep asks
 * through {@link resumeOrStart}, which waits for the queue to empty. The monitor shows that order.
 */
export class RunManager {
  private readonly runs = new Map<string, RunRecord>()
  private activeRunId: string | null = null
  private readonly jobs: JobRegistry
  /** Runs resumed while another trained, in the order they were asked for (each also in `runs`, status 'queued'). */
  private readonly queued: { projectDir: string; planned: StoredRun }[] = []

  constructor(private readonly options: RunManagerOptions) {
    this.jobs = options.jobs
  }

  private now(): Date {
    return (this.options.now ?? (() => new Date()))()
  }

  get active(): string | null {
    return this.activeRunId
  }

  /**
   * Starts a single run and returns its id at once; everything after that arrives as events. The run
   * is planned into the current project (or the scratch folder) first, so it resumes like any other.
   * @throws ApiError 'busy' while another run trains; 'invalid-request' for a bad config
   */
  async start(input: StartRunInput): Promise<RunRef> {
    // Check values now so a typo is a request error, not a run that fails a second later.
    const planned = planSingleRun({ ...input, config: resolveTrainConfig(input.config) }, this.now())
    try {
      parseDatasetId(input.dataset)
    } catch (error) {
      throw new ApiError('invalid-request', (error as Error).message, [{ path: 'dataset', message: (error as Error).message }])
    }
    this.assertIdle()
    const projectDir = this.options.projectDir()
    await writeRun(projectDir, planned)
    return { runId: this.launch(projectDir, planned).runId }
  }

  /**
   * Continues a run that is not done — interrupted, cancelled, failed or never started — from its
   * `last/` checkpoint when it has one. Works for this session's runs and the open project's.
   */
  async resume(runId: string): Promise<RunRef> {
    const known = this.runs.get(runId)
    const projectDir = known?.projectDir ?? this.options.projectDir()
    let stored: StoredRun
    try {
      stored = await readRun(projectDir, runId)
    } catch (error) {
      // A run.json that is there but unreadable: say what is wrong with it, not that the run is missing.
      if (existsSync(join(runDir(projectDir, runId), 'run.json'))) throw new ApiError('invalid-request', (error as Error).message)
      throw new ApiError('not-found', `no run ${runId} in this session or the open project`)
    }
    if (stored.status === 'done') throw new ApiError('invalid-request', `run ${runId} is already done`)
    if (this.activeRunId === runId) throw new ApiError('busy', `run ${runId} is training now`)
    const holder = await runLockHolder(projectDir, runId)
    if (holder) throw new ApiError('busy', new RunBusyError(runId, holder).message)
    // Another run trains (alone or in a sweep): this one joins the queue and starts when it ends.
    if (this.activeRunId) return this.enqueue(projectDir, stored)
    return { runId: this.launch(projectDir, stored).runId }
  }

  /**
   * Starts or continues a planned run of a project (what a sweep does for each run), after the run
   * training now and every run queued before it have ended. When `stopped` says so by then (the sweep
   * was stopped while it waited), nothing starts and this rejects.
   */
  async resumeOrStart(projectDir: string, runId: string, stopped: () => boolean = () => false): Promise<{ runId: string; ended: Promise<RunSummary> }> {
    // Looked at again after reading run.json: another sweep (another project's tab) may have started a run meanwhile.
    for (;;) {
      await this.whenIdle()
      if (stopped()) throw new Error('the sweep was stopped')
      const planned = await readRun(projectDir, runId)
      if (!this.activeRunId) return this.launch(projectDir, planned)
    }
  }

  /** Puts a run in the queue (once) and says so in its summary. */
  private enqueue(projectDir: string, planned: StoredRun): RunRef {
    if (!this.queued.some((q) => q.planned.id === planned.id)) {
      this.queued.push({ projectDir, planned })
      const record = this.newRecord(projectDir, planned, 'queued')
      this.runs.delete(planned.id)
      this.runs.set(planned.id, record)
    }
    this.emitQueue()
    return { runId: planned.id }
  }

  /** Tells every queued run its place (1 = next). */
  private emitQueue(): void {
    this.queued.forEach((q, i) => {
      const record = this.runs.get(q.planned.id)
      if (!record) return
      record.summary.queuePosition = i + 1
      record.summary.message = i === 0 ? 'queued: starts when the run training now ends' : `queued: ${i} run${i === 1 ? '' : 's'} before it`
      this.emitStatus(record)
    })
  }

  /** Starts the first queued run, if any (called when the active run has ended). */
  private startNextQueued(): void {
    while (this.queued.length > 0 && !this.activeRunId) {
      const next = this.queued.shift() as { projectDir: string; planned: StoredRun }
      try {
        this.launch(next.projectDir, next.planned)
      } catch (error) {
        const record = this.runs.get(next.planned.id)
        if (record) this.finish(record, { status: 'failed', error: toApiErrorData(error), message: (error as Error).message })
      }
    }
    this.emitQueue()
  }

  /**
   * Settles when no run trains and none is queued (a sweep's next run waits for this). Waiting for the
   * active run is enough: a run is queued only while another trains, and a run's end starts the next
   * queued one before its `ended` settles, so the queue is empty whenever nothing is active.
   */
  private async whenIdle(): Promise<void> {
    for (let id = this.activeRunId; id; id = this.activeRunId) {
      const record = this.runs.get(id)
      if (!record) return
      await record.ended
    }
  }

  /**
   * Runs one planned run of a project in the trainer process. Returns its id and a promise that
   * settles when it has ended (for sweeps); progress arrives as events.
   */
  launch(projectDir: string, planned: StoredRun): { runId: string; ended: Promise<RunSummary> } {
    this.assertIdle()
    const runId = planned.id
    // Started directly while it waited in the queue: it leaves the queue.
    const queuedAt = this.queued.findIndex((q) => q.planned.id === runId)
    if (queuedAt !== -1) this.queued.splice(queuedAt, 1)
    const record = this.newRecord(projectDir, planned, 'running')
    this.runs.delete(runId) // a resumed run moves to the top of the list
    this.runs.set(runId, record)
    this.activeRunId = runId
    const request: PlannedRunRequest = { projectDir, runId }
    const supervisor = this.options.supervisor
    let job: ReturnType<TrainerHost['train']>
    try {
      job = supervisor.acquire().train(request, (event) => this.receive(record, event))
    } catch (error) {
      // The process could not even be started: no run to show, and nothing left busy.
      this.runs.delete(runId)
      this.activeRunId = null
      throw error
    }
    record.jobId = job.jobId
    supervisor.busy = true
    // The run is a job under its own id: a cancel aborts the job's signal, which asks the trainer to stop.
    this.jobs.start('run', ({ signal }) => {
      signal.addEventListener('abort', () => supervisor.current?.cancel(job.jobId), { once: true })
      return this.settle(record, job.outcome)
    }, { id: runId })
    this.emitStatus(record)
    this.options.onActiveChange?.()
    return { runId, ended: record.ended }
  }

  /** A run's record as this session keeps it, before it has started ('queued') or as it starts. */
  private newRecord(projectDir: string, planned: StoredRun, status: 'running' | 'queued'): RunRecord {
    const now = this.now()
    const runId = planned.id
    const summary: RunSummary = {
      runId,
      name: planned.name ?? describeRun(planned),
      dataset: planned.dataset,
      classes: planned.classes.length > 0 ? planned.classes : null,
      config: { ...planned.config },
      status,
      phase: status === 'running' ? 'starting' : null,
      message: status === 'running' ? 'starting the trainer' : 'queued',
      outDir: runDir(projectDir, runId),
      backend: null,
      device: null,
      startedAt: now.toISOString(),
      finishedAt: null,
      epochsDone: planned.epochs,
      progress: null,
      outcome: null,
      error: null,
      resumable: false
    }
    let ended!: (summary: RunSummary) => void
    const record: RunRecord = {
      summary,
      projectDir,
      jobId: null,
      epochs: planned.config.epochs,
      ended: new Promise<RunSummary>((resolve) => (ended = resolve)),
      resolveEnded: (s) => ended(s)
    }
    return record
  }

  /** Waits for the trainer's outcome and records how the run ended (never rejects). */
  private async settle(record: RunRecord, outcome: Promise<TrainOutcome>): Promise<RunSummary> {
    const { projectDir, summary: { runId } } = record
    try {
      const done = await outcome
      this.finish(record, { status: done.status, outcome: done, message: done.status === 'done' ? 'finished' : 'cancelled' })
    } catch (error) {
      const cancelling = record.summary.status === 'cancelling'
      if (error instanceof TrainerCrashedError) {
        // The dead trainer could not record how its run ended: say it in run.json (before anyone is
        // told, so whoever reacts to the event reads the same) for later sessions and the CLI.
        await markEnded(projectDir, runId, cancelling ? 'cancelled' : 'interrupted', error.message)
        // Killed after ignoring a cancel: still the user's cancel. Otherwise a crash cut the run off.
        this.finish(record, {
          status: cancelling ? 'cancelled' : 'interrupted',
          error: toApiErrorData(error),
          message: cancelling ? 'cancelled (the trainer was stopped)' : 'interrupted: the trainer process stopped unexpectedly'
        })
      } else {
        const data = toApiErrorData(error)
        this.finish(record, { status: 'failed', error: data, message: data.message })
      }
    }
    return record.ended
  }

  private assertIdle(): void {
    if (this.activeRunId) {
      throw new ApiError('busy', `run ${this.activeRunId} is training; cancel it or wait for it to finish (one run at a time)`)
    }
  }

  /**
   * Asks the run to stop after its current batch; a queued run leaves the queue (and is 'cancelled'
   * again). Cancelling an ended run does nothing.
   */
  cancel(runId: string): void {
    const record = this.require(runId)
    const queuedAt = this.queued.findIndex((q) => q.planned.id === runId)
    if (queuedAt !== -1) {
      this.queued.splice(queuedAt, 1)
      this.finish(record, { status: 'cancelled', message: 'taken out of the queue' })
      this.emitQueue()
      return
    }
    if (record.summary.status !== 'running' || !record.jobId) return
    record.summary.status = 'cancelling'
    record.summary.message = 'stopping after the current batch'
    this.jobs.cancel(runId)
    this.emitStatus(record)
  }

  /** Runs of this session, newest first. */
  list(): RunSummary[] {
    return [...this.runs.values()].map((r) => structuredClone(r.summary)).reverse()
  }

  /** One run's summary; throws 'not-found' for a run not started this session. */
  get(runId: string): RunSummary {
    return structuredClone(this.require(runId).summary)
  }

  /** The folder whose runs/ holds a run: this session's record of it, else the open project (or scratch). */
  projectDirOf(runId: string): string {
    return this.runs.get(runId)?.projectDir ?? this.options.projectDir()
  }

  /** The run's metrics.jsonl records so far: a run of this session, or of the open project. */
  async metrics(runId: string): Promise<MetricsRecord[]> {
    const known = this.runs.get(runId)
    const dir = runDir(this.projectDirOf(runId), runId)
    if (!known && !existsSync(join(dir, 'run.json'))) throw new ApiError('not-found', `no run ${runId} in this session or the open project`)
    return readMetrics(join(dir, METRICS_FILE))
  }

  private require(runId: string): RunRecord {
    const record = this.runs.get(runId)
    if (!record) throw new ApiError('not-found', `no run ${runId} in this session`)
    return record
  }

  private receive(record: RunRecord, event: TrainEvent): void {
    const { summary } = record
    const runId = summary.runId
    const send = (event: WorkbenchEvent, keep: boolean): void => this.jobs.report(runId, event, keep)
    switch (event.type) {
      case 'status':
        summary.phase = event.phase as RunPhase
        if (summary.status === 'running') summary.message = event.message
        if (event.phase === 'loading-data' && summary.backend === null) void this.readBackend(record)
        this.emitStatus(record)
        return
      case 'data-progress': {
        const dataEvent: WorkbenchEvent = { type: 'run:data-progress', runId, phase: event.phase, done: event.done, total: event.total }
        send(dataEvent, event.done >= event.total)
        return
      }
      case 'batch': {
        const m = event.metrics
        const progress: RunProgress = {
          epoch: m.epoch,
          epochs: record.epochs,
          batch: m.batch,
          batchesPerEpoch: m.batchesPerEpoch,
          loss: m.loss,
          acc: m.acc,
          lr: m.lr,
          imagesPerSecond: m.imagesPerSecond,
          etaSeconds: m.etaSeconds
        }
        summary.progress = progress
        const progressEvent: WorkbenchEvent = { type: 'run:progress', runId, ...progress }
        // The epoch's last batch is the figure a chart keeps: never dropped.
        send(progressEvent, m.batch === m.batchesPerEpoch)
        return
      }
      case 'epoch':
        summary.epochsDone = event.metrics.epoch
        // last/ is written before the epoch event, so from here on the run can resume.
        summary.resumable = true
        send({ type: 'run:epoch', runId, metrics: event.metrics }, true)
        return
    }
  }

  /** run.json is written before data loading starts; it names the backend and device the trainer chose. */
  private async readBackend(record: RunRecord): Promise<void> {
    try {
      const run = JSON.parse(await readFile(join(record.summary.outDir, 'run.json'), 'utf8')) as { backend?: string; device?: string }
      if (record.summary.backend !== null) return
      record.summary.backend = run.backend ?? null
      record.summary.device = run.device ?? null
      this.emitStatus(record)
    } catch {
      // The outcome names them at the end anyway.
    }
  }

  private finish(record: RunRecord, end: Pick<RunSummary, 'status' | 'message'> & Partial<Pick<RunSummary, 'outcome' | 'error'>>): void {
    const { summary } = record
    summary.status = end.status
    summary.message = end.message
    summary.outcome = end.outcome ?? null
    summary.error = end.error ?? null
    summary.phase = null
    summary.finishedAt = this.now().toISOString()
    if (end.outcome) {
      summary.backend = end.outcome.backend
      summary.device = end.outcome.device
    }
    summary.resumable = end.status !== 'done' && existsSync(join(summary.outDir, 'last', 'model.json'))
    delete summary.queuePosition
    const wasActive = this.activeRunId === summary.runId
    if (wasActive) {
      this.activeRunId = null
      this.options.supervisor.busy = false
    }
    this.emitStatus(record) // a kept event: whatever progress was pending goes out before it
    // The queue goes first: whoever waits on this run's end (a sweep) finds the next queued run training.
    if (wasActive) this.startNextQueued()
    this.options.onActiveChange?.()
    record.resolveEnded(structuredClone(summary))
  }

  private emitStatus(record: RunRecord): void {
    const { runId } = record.summary
    const event: WorkbenchEvent = { type: 'run:status', run: structuredClone(record.summary) }
    // A run queued before it ever started this session has no job (report would drop its event).
    if (this.jobs.get(runId)) this.jobs.report(runId, event)
    else this.options.emit(event)
  }
}
