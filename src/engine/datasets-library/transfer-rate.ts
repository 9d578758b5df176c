/**
 * Transfer rate and time left, for progress bars. The rate is measured over a sliding window (not
 * since the start) so it follows a connection that speeds up or slows down, and bytes resumed from an
 * earlier attempt never count as "transferred now".
 */

/** Seconds of history the rate is averaged over: long enough to be steady, short enough to follow changes. */
const WINDOW_MS = 5000

/** A running measurement of one transfer. */
export interface RateMeter {
  /** Records the total bytes transferred so far (monotonic within an attempt). */
  update(transferredBytes: number, nowMs?: number): void
  /** Bytes per second over the window; null until there are two samples a moment apart. */
  bytesPerSecond(nowMs?: number): number | null
  /** Seconds to move `remainingBytes` at the current rate; null when the rate is unknown or zero. */
  etaSeconds(remainingBytes: number | null, nowMs?: number): number | null
  /** Forgets history (after a reconnect the old samples would average in the dead time). */
  reset(): void
}

/** Creates a rate meter. `now` is injectable so tests can drive time. */
export function createRateMeter(now: () => number = () => performance.now()): RateMeter {
  let samples: { t: number; bytes: number }[] = []
  const prune = (t: number): void => {
    // Keep one sample older than the window so the window is always fully spanned.
    while (samples.length > 2 && samples[1].t <= t - WINDOW_MS) samples.shift()
  }
  const rate = (t: number): number | null => {
    prune(t)
    if (samples.length < 2) return null
    const first = samples[0]
    const last = samples[samples.length - 1]
    const seconds = (last.t - first.t) / 1000
    if (seconds < 0.05) return null
    return (last.bytes - first.bytes) / seconds
  }
  return {
    update(bytes, t = now()) {
      samples.push({ t, bytes })
      prune(t)
    },
    bytesPerSecond: (t = now()) => rate(t),
    etaSeconds(remaining, t = now()) {
      const r = rate(t)
      if (remaining === null || r === null || r <= 0) return null
      return Math.max(0, remaining) / r
    },
    reset() {
      samples = []
    }
  }
}
