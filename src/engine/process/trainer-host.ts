import { fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { TrainEvent, TrainJobRequest, TrainOutcome } from '../../shared/train-request'
import type { FromTrainer, TaskEvent, TaskInput, TaskMessage, TaskOutput, ToTrainer, TrainerTaskName } from './trainer-protocol'

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
 * What the host needs of the process that runs the trainer entry. Node's `child_process.fork` and
 * Electron's `utilityProcess.fork` both fit behind it (see `childTrainerProcess`; Electron main has
 * its own adapter), so the host logic is the same in the app, the CLI, serve mode and tests.
 */
export interface TrainerProcess {
  /** OS process id, once known. */
  readonly pid: number | undefined
  postMessage(message: ToTrainer): void
  onMessage(listener: (message: FromTrainer) => void): void
  /** Called once when the process ends; `signal` is null where the platform does not report one. */
  onExit(listener: (code: number | null, signal: string | null) => void): void
  /** Ends the process at once (SIGKILL where there are signals). */
  kill(): void
}

/** Adapts a forked Node child process (with an IPC channel) to a TrainerProcess. */
export function childTrainerProcess(child: ChildProcess): TrainerProcess {
  return {
    get pid() {
      return child.pid
    },
    postMessage: (message) => {
      // A send after the child died throws (ERR_IPC_CHANNEL_CLOSED); the exit handler reports that.
      if (child.connected) child.send(message)
    },
    onMessage: (listener) => child.on('message', (message) => listener(message as FromTrainer)),
    onExit: (listener) => {
      if (child.exitCode !== null || child.signalCode !== null) queueMicrotask(() => listener(child.exitCode, child.signalCode))
      else child.once('exit', (code, signal) => listener(code, signal))
    },
    kill: () => child.kill('SIGKILL')
  }
}

function isChildProcess(value: ChildProcess | TrainerProcess): value is ChildProcess {
  return typeof (value as ChildProcess).send === 'function' && typeof (value as ChildProcess).on === 'function'
}

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
  /** Training jobs and tasks alike; the message's job id says which listener and result type it is. */
  private readonly jobs = new Map<string, { onEvent: (e: never) => void; resolve: (o: never) => void; reject: (e: Error) => void }>()
  private readonly process: TrainerProcess
  private exit: { code: number | null; signal: string | null } | undefined
  private readonly exitListeners: ((code: number | null, signal: string | null) => void)[] = []

  /** @param child a forked Node child process, or any TrainerProcess (Electron's utilityProcess adapter) */
  constructor(
    child: ChildProcess | TrainerProcess,
    private readonly cancelGraceMs = 30_000
  ) {
    this.process = isChildProcess(child) ? childTrainerProcess(child) : child
    this.process.onMessage((message) => this.receive(message))
    this.process.onExit((code, signal) => {
      this.exit = { code, signal }
      for (const job of this.jobs.values()) job.reject(new TrainerCrashedError(code, signal))
      this.jobs.clear()
      for (const listener of this.exitListeners.splice(0)) listener(code, signal)
    })
  }

  /** The trainer's OS process id, once known. */
  get pid(): number | undefined {
    return this.process.pid
  }

  /** Whether the trainer process has ended. */
  get exited(): boolean {
    return this.exit !== undefined
  }

  /** Calls `listener` once when the trainer process ends (at once if it already has). */
  onExit(listener: (code: number | null, signal: string | null) => void): void {
    if (this.exit) listener(this.exit.code, this.exit.signal)
    else this.exitListeners.push(listener)
  }

  /** Starts a training job; events arrive through `onEvent` until the outcome settles. */
  train(request: TrainJobRequest, onEvent: (event: TrainEvent) => void): TrainingJob {
    const jobId = randomUUID()
    const outcome = new Promise<TrainOutcome>((resolve, reject) => {
      if (this.exit) return reject(new TrainerCrashedError(this.exit.code, this.exit.signal))
      this.jobs.set(jobId, { onEvent, resolve: resolve as (value: never) => void, reject })
      this.send({ type: 'train', jobId, request })
    })
    return { jobId, outcome }
  }

  /**
   * Runs a short engine task in the trainer process (see trainer-tasks.ts); it interleaves with a
   * running training job between batches.
   */
  runTask<K extends TrainerTaskName>(task: K, input: TaskInput<K>): Promise<TaskOutput<K>> {
    return this.startTask(task, input, () => undefined).result
  }

  /** Starts a task that reports progress (as events) and can be cancelled with `cancel(jobId)`. */
  startTask<K extends TrainerTaskName>(task: K, input: TaskInput<K>, onEvent: (event: TaskEvent<K>) => void): { jobId: string; result: Promise<TaskOutput<K>> } {
    const jobId = randomUUID()
    const result = new Promise<TaskOutput<K>>((resolve, reject) => {
      if (this.exit) return reject(new TrainerCrashedError(this.exit.code, this.exit.signal))
      this.jobs.set(jobId, { onEvent, resolve: resolve as (value: never) => void, reject })
      this.send({ type: 'task', jobId, task, input } as TaskMessage)
    })
    return { jobId, result }
  }

  /** Asks the job to stop at the next batch (weights and metrics kept); kills the process if it does not. */
  cancel(jobId: string): void {
    if (!this.jobs.has(jobId)) return
    this.send({ type: 'cancel', jobId })
    const timer = setTimeout(() => {
      if (this.jobs.has(jobId)) this.process.kill()
    }, this.cancelGraceMs)
    timer.unref()
  }

  /** Stops the process cleanly (it cancels any job first). */
  async shutdown(): Promise<void> {
    if (this.exit) return
    const exited = new Promise<void>((resolve) => this.onExit(() => resolve()))
    this.send({ type: 'shutdown' })
    const timer = setTimeout(() => this.process.kill(), this.cancelGraceMs)
    await exited
    clearTimeout(timer)
  }

  private send(message: ToTrainer): void {
    this.process.postMessage(message)
  }

  private receive(message: FromTrainer): void {
    if (message.type === 'ready') return
    const job = this.jobs.get(message.jobId)
    if (!job) return
    if (message.type === 'event') job.onEvent(message.event as never)
    else if (message.type === 'done' || message.type === 'result') {
      this.jobs.delete(message.jobId)
      job.resolve((message.type === 'done' ? message.outcome : message.value) as never)
    } else {
      this.jobs.delete(message.jobId)
      job.reject(Object.assign(new Error(message.error.message), { name: message.error.name }))
    }
  }
}
