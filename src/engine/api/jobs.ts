/**
 * Long work as jobs (DESIGN "Examples to follow" 2: request, event stream, cancel): an id at once,
 * progress reported through events, cancel by id, and a result or an error kept for whoever asks.
 * Feature studies, library jobs and sweeps start here; each says how its progress and end read as
 * contract events, and the registry sends them, through one progress throttle per job.
 */
import { randomBytes } from 'node:crypto'
import type { WorkbenchEvent } from '../../shared/contract'
import { createProgressThrottle } from './progress-throttle'

export type JobState = 'running' | 'done' | 'failed' | 'cancelled'

/** What a job's work is given: its id, the signal a cancel aborts, and where to report progress. */
export interface JobContext<P> {
  readonly id: string
  readonly signal: AbortSignal
  progress(p: P): void
}

/** One job's bookkeeping. */
export interface Job<R = unknown> {
  readonly id: string
  readonly kind: string
  state: JobState
  result: R | undefined
  error: unknown
  readonly startedAt: Date
  finishedAt: Date | null
  /** Settles (never rejects) when the job has ended and its last events were sent. */
  readonly finished: Promise<void>
}

/** An event for the registry to send; `keep` events are never coalesced away by the throttle. */
export interface JobEvent {
  event: WorkbenchEvent
  keep?: boolean
}

/** How a job reads as contract events (each hook may send nothing). */
export interface JobOptions<P, R> {
  /** The job's id; default `<kind>-<12 hex digits>`. */
  id?: string
  /** Sent when the job starts. */
  started?: () => WorkbenchEvent | undefined
  progress?: (p: P) => JobEvent | undefined
  done?: (result: R) => WorkbenchEvent | undefined
  /** `cancelled`: the job's signal was aborted (a cancel asked for) and `isCancellation` agrees. */
  failed?: (error: unknown, cancelled: boolean) => WorkbenchEvent | undefined
  /** Whether an error after a cancel is that cancel taking effect (default: any error). */
  isCancellation?: (error: unknown) => boolean
  /** Work after the end events are out (e.g. a follow-up event that needs a read); part of `finished`. */
  ended?: (job: Job<R>) => Promise<void> | void
}

interface Entry {
  job: Job
  controller: AbortController
  send: (event: WorkbenchEvent | undefined, keep?: boolean) => void
}

/** The jobs of one API session, of every kind. */
export class JobRegistry {
  private readonly jobs = new Map<string, Entry>()

  constructor(
    private readonly emit: (event: WorkbenchEvent) => void,
    private readonly progressIntervalMs?: number
  ) {}

  /** Starts `run` and returns the job's id at once; the work's end is recorded and reported. */
  start<P, R>(kind: string, run: (ctx: JobContext<P>) => Promise<R>, options: JobOptions<P, R> = {}): string {
    const id = options.id ?? `${kind}-${randomBytes(6).toString('hex')}`
    const controller = new AbortController()
    const throttle = createProgressThrottle<WorkbenchEvent>(this.emit, this.progressIntervalMs)
    const send = (event: WorkbenchEvent | undefined, keep = true): void => {
      if (!event) return
      if (keep) throttle.always(event)
      else throttle.progress(event)
    }
    send(options.started?.())
    let work: Promise<R>
    try {
      work = run({
        id,
        signal: controller.signal,
        progress: (p) => {
          const out = options.progress?.(p)
          if (out) send(out.event, out.keep ?? false)
        }
      })
    } catch (error) {
      work = Promise.reject(error)
    }
    const job: Job<R> = {
      id,
      kind,
      state: 'running',
      result: undefined,
      error: undefined,
      startedAt: new Date(),
      finishedAt: null,
      finished: work
        .then(
          (result) => {
            Object.assign(job, { state: 'done', result, finishedAt: new Date() })
            send(options.done?.(result))
          },
          (error: unknown) => {
            const cancelled = controller.signal.aborted && (options.isCancellation?.(error) ?? true)
            Object.assign(job, { state: cancelled ? 'cancelled' : 'failed', error, finishedAt: new Date() })
            send(options.failed?.(error, cancelled))
          }
        )
        .then(() => {
          throttle.flush()
          return options.ended?.(job)
        })
        .catch((error: unknown) => {
          process.stderr.write(`workbench: job ${id}: ${(error as Error)?.stack ?? String(error)}\n`)
        })
    }
    this.jobs.delete(id) // a job started again under its id (a resumed run) moves to the end
    this.jobs.set(id, { job: job as Job, controller, send })
    return id
  }

  /** Asks a running job to stop (aborts its signal). False when no running job has that id. */
  cancel(id: string): boolean {
    const entry = this.jobs.get(id)
    if (!entry || entry.job.state !== 'running') return false
    entry.controller.abort()
    return true
  }

  /**
   * Sends an event of a job's through its throttle (`keep`: never coalesced away), for work that
   * reports more than progress (a run's status changes). Nothing for an unknown id.
   */
  report(id: string, event: WorkbenchEvent, keep = true): void {
    this.jobs.get(id)?.send(event, keep)
  }

  /** A job by id (running or kept after its end). */
  get<R = unknown>(id: string): Job<R> | undefined {
    return this.jobs.get(id)?.job as Job<R> | undefined
  }

  /** The jobs of a kind (all kinds when omitted), oldest first. */
  list(kind?: string): Job[] {
    return [...this.jobs.values()].map((e) => e.job).filter((j) => kind === undefined || j.kind === kind)
  }

  /** Forgets ended jobs of a kind beyond the newest `keep`. */
  prune(kind: string, keep: number): void {
    const ended = this.list(kind).filter((j) => j.state !== 'running')
    for (const old of ended.slice(0, Math.max(0, ended.length - keep))) this.jobs.delete(old.id)
  }

  /** Resolves when every job of a kind (all kinds when omitted) running now has ended. */
  async idle(kind?: string): Promise<void> {
    await Promise.all(this.list(kind).map((j) => j.finished))
  }
}
