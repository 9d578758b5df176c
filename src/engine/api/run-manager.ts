import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { RunPhase, RunProgress, RunRef, RunSummary, StartRunInput, WorkbenchEvent } from '../../shared/contract'
import { ApiError } from '../../shared/contract-errors'
import type { MetricsRecord } from '../../shared/metrics'
import { resolveTrainConfig } from '../../shared/train-config'
import type { TrainEvent, TrainRequest } from '../../shared/train-request'
import { parseDatasetId } from '../data/load-dataset'
import { TrainerCrashedError, type TrainerHost } from '../process/trainer-host'
import { createProgressThrottle, type ProgressThrottle } from './progress-throttle'
import { readMetricsFile } from './read-metrics'
import { toApiErrorData } from './to-api-error'
import type { TrainerSupervisor } from './trainer-supervisor'

export interface RunManagerOptions {
  supervisor: TrainerSupervisor
  /** Where runs started outside a project get their folder (`<runsDir>/<runId>/`). */
  runsDir: string
  emit: (event: WorkbenchEvent) => void
  /** Called when the active run changes (engine:status). */
  onActiveChange?: () => void
  progressIntervalMs?: number
  now?: () => Date
}

interface RunRecord {
  summary: RunSummary
  jobId: string | null
  throttle: ProgressThrottle<WorkbenchEvent>
  /** Epochs the run was configured for (batch events do not carry it). */
  epochs: number
}

/**
 * The runs of this session: starts them in the trainer process, turns trainer events into contract
 * events (throttled), keeps each run's summary current, and marks a run cut off by a trainer crash
 * as interrupted (resumable when its `last/` checkpoint exists).
 */
export class RunManager {
  private readonly runs = new Map<string, RunRecord>()
  private activeRunId: string | null = null

  constructor(private readonly options: RunManagerOptions) {}

  get active(): string | null {
    return this.activeRunId
  }

  /**
   * Starts a run and returns its id at once; everything after that arrives as events.
   * @throws ApiError 'busy' while another run trains; 'invalid-request' for a bad config
   */
  start(input: StartRunInput): RunRef {
    // Check values now so a typo is a request error, not a run that fails a second later.
    const config = resolveTrainConfig((input.config ?? {}) as Record<string, unknown>)
    try {
      parseDatasetId(input.dataset)
    } catch (error) {
      throw new ApiError('invalid-request', (error as Error).message, [{ path: 'dataset', message: (error as Error).message }])
    }
    if (this.activeRunId) {
      throw new ApiError('busy', `run ${this.activeRunId} is training; cancel it or wait for it to finish (one run at a time)`)
    }
    const now = (this.options.now ?? (() => new Date()))()
    const runId = `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`
    const outDir = resolve(join(this.options.runsDir, runId))
    const summary: RunSummary = {
      runId,
      name: input.name ?? `${config.arch} ×${config.width} · ${input.dataset.split(':')[0]}`,
      dataset: input.dataset,
      classes: input.classes ?? null,
      config: { ...(input.config ?? {}) },
      status: 'running',
      phase: 'starting',
      message: 'starting the trainer',
      outDir,
      backend: null,
      device: null,
      startedAt: now.toISOString(),
      finishedAt: null,
      epochsDone: 0,
      progress: null,
      outcome: null,
      error: null,
      resumable: false
    }
    const record: RunRecord = {
      summary,
      jobId: null,
      throttle: createProgressThrottle(this.options.emit, this.options.progressIntervalMs),
      epochs: config.epochs
    }
    this.runs.set(runId, record)
    this.activeRunId = runId
    const request: TrainRequest = { dataset: input.dataset, classes: input.classes, config: input.config ?? {}, outDir }
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
    this.emitStatus(record)
    this.options.onActiveChange?.()
    job.outcome.then(
      (outcome) => {
        this.finish(record, { status: outcome.status, outcome, message: outcome.status === 'done' ? 'finished' : 'cancelled' })
      },
      (error: unknown) => {
        const cancelling = record.summary.status === 'cancelling'
        if (error instanceof TrainerCrashedError) {
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
    )
    return { runId }
  }

  /** Asks the run to stop after its current batch. Cancelling an ended run does nothing. */
  cancel(runId: string): void {
    const record = this.require(runId)
    if (record.summary.status !== 'running' || !record.jobId) return
    record.summary.status = 'cancelling'
    record.summary.message = 'stopping after the current batch'
    this.options.supervisor.current?.cancel(record.jobId)
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

  /** The run's metrics.jsonl records so far. */
  async metrics(runId: string): Promise<MetricsRecord[]> {
    return readMetricsFile(join(this.require(runId).summary.outDir, 'metrics.jsonl'))
  }

  private require(runId: string): RunRecord {
    const record = this.runs.get(runId)
    if (!record) throw new ApiError('not-found', `no run ${runId} in this session`)
    return record
  }

  private receive(record: RunRecord, event: TrainEvent): void {
    const { summary, throttle } = record
    const runId = summary.runId
    switch (event.type) {
      case 'status':
        summary.phase = event.phase as RunPhase
        if (summary.status === 'running') summary.message = event.message
        if (event.phase === 'loading-data' && summary.backend === null) void this.readBackend(record)
        this.emitStatus(record)
        return
      case 'data-progress': {
        const dataEvent: WorkbenchEvent = { type: 'run:data-progress', runId, phase: event.phase, done: event.done, total: event.total }
        if (event.done >= event.total) throttle.always(dataEvent)
        else throttle.progress(dataEvent)
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
        if (m.batch === m.batchesPerEpoch) throttle.always(progressEvent)
        else throttle.progress(progressEvent)
        return
      }
      case 'epoch':
        summary.epochsDone = event.metrics.epoch
        // last/ is written before the epoch event, so from here on the run can resume.
        summary.resumable = true
        throttle.always({ type: 'run:epoch', runId, metrics: event.metrics })
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
    summary.finishedAt = (this.options.now ?? (() => new Date()))().toISOString()
    if (end.outcome) {
      summary.backend = end.outcome.backend
      summary.device = end.outcome.device
    }
    summary.resumable = end.status !== 'done' && existsSync(join(summary.outDir, 'last', 'model.json'))
    if (this.activeRunId === summary.runId) {
      this.activeRunId = null
      this.options.supervisor.busy = false
    }
    this.emitStatus(record)
    record.throttle.flush()
    this.options.onActiveChange?.()
  }

  private emitStatus(record: RunRecord): void {
    record.throttle.always({ type: 'run:status', run: structuredClone(record.summary) })
  }
}
