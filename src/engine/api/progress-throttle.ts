/**
 * Keeps a fast run from flooding the UI: droppable progress (batch figures, data loading counts) goes
 * out at most once per interval, latest value wins; events that must arrive (the last batch of an
 * epoch, epoch results, status changes) go out at once, after any pending progress so order is kept.
 */

/** Ten a second is smooth for a progress bar and cheap for IPC and a WebSocket. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 100

/** Timers, injectable so tests can drive time (vitest's fake timers replace these globals too). */
export interface ThrottleClock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realClock: ThrottleClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)
}

/** One run's throttle. */
export interface ProgressThrottle<E> {
  /** Droppable: may be replaced by a later `progress` before it goes out. */
  progress(event: E): void
  /** Never dropped: sent now, after the pending progress event if there is one. */
  always(event: E): void
  /** Sends what is pending and stops the timer (end of run). */
  flush(): void
}

/**
 * Creates a throttle in front of `emit`.
 * @param intervalMs least time between two droppable events (ms)
 */
export function createProgressThrottle<E>(emit: (event: E) => void, intervalMs = DEFAULT_PROGRESS_INTERVAL_MS, clock: ThrottleClock = realClock): ProgressThrottle<E> {
  let lastSentAt = -Infinity
  let pending: E | undefined
  let timer: unknown

  const sendPending = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer)
    timer = undefined
    if (pending === undefined) return
    const event = pending
    pending = undefined
    lastSentAt = clock.now()
    emit(event)
  }

  return {
    progress(event) {
      pending = event
      const wait = lastSentAt + intervalMs - clock.now()
      if (wait <= 0) sendPending()
      // Trailing edge: the latest value goes out when the interval is over, so a stall never hides it.
      else if (timer === undefined) timer = clock.setTimeout(sendPending, wait)
    },
    always(event) {
      sendPending()
      emit(event)
    },
    flush: sendPending
  }
}
