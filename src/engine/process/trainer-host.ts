import { fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { TrainEvent, TrainOutcome, TrainRequest } from '../../shared/train-request'
import type { FromTrainer, ToTrainer } from './trainer-protocol'

/** A job the trainer process runs: its id at once, the outcome later. */
export interface TrainingJob {
  jobId: string
  outcome: Promise<TrainOutcome>
}

/** Thrown for a job whose trainer process died (native crash, out of memory, kill). */
export class TrainerCrashedError extends Error {
  constructor(readonly exitCode: number | null, readonly signalName: string | null) {
    super(`the trainer process stopped unexpectedly (${signalName ? `signal ${signalName}` : `exit code ${exitCode}`}); the run can resume from its last checkpoint`)
    this.name = 'TrainerCrashedError'
  }
}

const ENTRY = fileURLToPath(new URL('./trainer-entry.ts', import.meta.url))

/**
 * Starts the trainer entry under Node's `child_process.fork` (CLI, serve mode, tests). TypeScript
 * runs through tsx's loader; Electron main uses utilityProcess with the built entry instead.
 */
export function forkTrainerProcess(env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return fork(ENTRY, [], { execArgv: ['--import', 'tsx'], env: { ...env, TF_FORCE_GPU_ALLOW_GROWTH: 'true' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
}

/**
 * The host side of the trainer process: sends requests, routes events to the job that asked, turns
 * a crash into a clear error, and escalates a cancel to a kill if the job does not stop in time.
 */
export class TrainerHost {
  private readonly jobs = new Map<string, { onEvent: (e: TrainEvent) => void; resolve: (o: TrainOutcome) => void; reject: (e: Error) => void }>()
  private exited = false

  constructor(
    private readonly child: ChildProcess,
    private readonly cancelGraceMs = 30_000
  ) {
    child.on('message', (message) => this.receive(message as FromTrainer))
    child.on('exit', (code, signal) => {
      this.exited = true
      for (const job of this.jobs.values()) job.reject(new TrainerCrashedError(code, signal))
      this.jobs.clear()
    })
  }

  /** Starts a training job; events arrive through `onEvent` until the outcome settles. */
  train(request: TrainRequest, onEvent: (event: TrainEvent) => void): TrainingJob {
    const jobId = randomUUID()
    const outcome = new Promise<TrainOutcome>((resolve, reject) => {
      if (this.exited) return reject(new TrainerCrashedError(this.child.exitCode, this.child.signalCode))
      this.jobs.set(jobId, { onEvent, resolve, reject })
      this.send({ type: 'train', jobId, request })
    })
    return { jobId, outcome }
  }

  /** Asks the job to stop at the next batch (weights and metrics kept); kills the process if it does not. */
  cancel(jobId: string): void {
    if (!this.jobs.has(jobId)) return
    this.send({ type: 'cancel', jobId })
    const timer = setTimeout(() => {
      if (this.jobs.has(jobId)) this.child.kill('SIGKILL')
    }, this.cancelGraceMs)
    timer.unref()
  }

  /** Stops the process cleanly (it cancels any job first). */
  async shutdown(): Promise<void> {
    if (this.exited) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.send({ type: 'shutdown' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), this.cancelGraceMs)
    await exited
    clearTimeout(timer)
  }

  private send(message: ToTrainer): void {
    this.child.send(message)
  }

  private receive(message: FromTrainer): void {
    if (message.type === 'ready') return
    const job = this.jobs.get(message.jobId)
    if (!job) return
    if (message.type === 'event') job.onEvent(message.event)
    else if (message.type === 'done') {
      this.jobs.delete(message.jobId)
      job.resolve(message.outcome)
    } else {
      this.jobs.delete(message.jobId)
      job.reject(Object.assign(new Error(message.error.message), { name: message.error.name }))
    }
  }
}
