import type { ChildProcess } from 'node:child_process'
import { TrainerHost, type TrainerProcess } from '../process/trainer-host'

/** Starts a new trainer process (child_process.fork outside Electron, utilityProcess.fork inside). */
export type LaunchTrainer = () => ChildProcess | TrainerProcess

export type TrainerState = 'stopped' | 'idle' | 'busy' | 'crashed'

/** A trainer process that ended without being asked to. */
export interface TrainerCrash {
  at: string
  code: number | null
  signal: string | null
}

export interface TrainerSupervisorOptions {
  launch: LaunchTrainer
  /** Grace period of a cooperative cancel before the process is killed (ms). */
  cancelGraceMs?: number
  /** At most this many automatic restarts per minute; after that the next request restarts it. */
  maxRestartsPerMinute?: number
  /** Called after every state change (engine:status). */
  onChange?: () => void
  /** Called when the process dies unasked, before any restart. */
  onCrash?: (crash: TrainerCrash) => void
}

/**
 * Owns the trainer process: starts it on first use, notices when it dies unasked, restarts it (a
 * native crash must not leave the app without a trainer), and stops it cleanly on quit.
 */
export class TrainerSupervisor {
  private host: TrainerHost | undefined
  private stopping = false
  private readonly restartTimes: number[] = []
  /** Restarts after a crash, this session. */
  restarts = 0
  lastCrash: TrainerCrash | null = null
  busy = false

  constructor(private readonly options: TrainerSupervisorOptions) {}

  get state(): TrainerState {
    if (this.host && !this.host.exited) return this.busy ? 'busy' : 'idle'
    return this.lastCrash ? 'crashed' : 'stopped'
  }

  get pid(): number | null {
    return this.host && !this.host.exited ? (this.host.pid ?? null) : null
  }

  /** The running trainer's host, if there is one (never starts one). */
  get current(): TrainerHost | undefined {
    return this.host && !this.host.exited ? this.host : undefined
  }

  /** The running trainer's host, starting the process if there is none. */
  acquire(): TrainerHost {
    if (this.host && !this.host.exited) return this.host
    this.stopping = false
    const host = new TrainerHost(this.options.launch(), this.options.cancelGraceMs)
    this.host = host
    host.onExit((code, signal) => this.handleExit(host, code, signal))
    this.options.onChange?.()
    return host
  }

  /** Stops the process (it cancels its job first); waits for it to end. */
  async shutdown(): Promise<void> {
    this.stopping = true
    const host = this.host
    if (host) await host.shutdown()
  }

  private handleExit(host: TrainerHost, code: number | null, signal: string | null): void {
    if (this.host !== host) return
    this.busy = false
    if (this.stopping) {
      this.host = undefined
      this.options.onChange?.()
      return
    }
    const crash = { at: new Date().toISOString(), code, signal }
    this.lastCrash = crash
    this.options.onCrash?.(crash)
    const now = Date.now()
    while (this.restartTimes.length && now - (this.restartTimes[0] as number) > 60_000) this.restartTimes.shift()
    if (this.restartTimes.length < (this.options.maxRestartsPerMinute ?? 3)) {
      this.restartTimes.push(now)
      this.restarts++
      this.host = undefined
      this.acquire()
    } else {
      // A process that keeps dying at start would spin; wait for the user's next request instead.
      this.host = undefined
      this.options.onChange?.()
    }
  }
}
