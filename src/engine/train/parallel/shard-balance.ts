/**
 * How many images of each batch each data-parallel worker gets. Equal shares are right when every
 * core runs at the same speed, but cores often do not: on the 2-core VM we develop on, one vCPU
 * regularly ran a CPU-bound loop at 60–70% of the other's speed for seconds at a time (the host's
 * other tenants), and every batch-norm exchange then waits for the slow worker. So shares follow
 * each worker's measured speed: images per millisecond of its own computing (time spent waiting at
 * barriers excluded), smoothed over steps.
 *
 * The split does not change the mathematics: batch norm uses the whole batch's statistics and the
 * gradients are summed (synced-batch-norm.ts), so any split gives the same step within float
 * rounding — though not bit for bit the same as another split.
 */
export class ShardBalance {
  /** Smoothed images per busy millisecond, per worker; equal until measured. */
  private readonly speed: number[]
  private readonly measured: boolean[]

  constructor(
    private readonly workers: number,
    /** Weight of the newest measurement: high enough to follow a core that slows down within ~5 steps. */
    private readonly smoothing = 0.3
  ) {
    this.speed = Array.from({ length: workers }, () => 1)
    this.measured = Array.from({ length: workers }, () => false)
  }

  /**
   * [start, end) of each worker's images in a batch of `count`. With at least one image per worker,
   * every worker gets one or more; with fewer, the split is equal and some shares are empty.
   */
  bounds(count: number): [number, number][] {
    if (count < this.workers) {
      return Array.from({ length: this.workers }, (_, rank) => [Math.floor((rank * count) / this.workers), Math.floor(((rank + 1) * count) / this.workers)])
    }
    const total = this.speed.reduce((a, b) => a + b, 0)
    const out: [number, number][] = []
    let start = 0
    let share = 0
    for (let rank = 0; rank < this.workers; rank++) {
      share += this.speed[rank] as number
      const left = this.workers - rank - 1
      // Rounded cumulative shares, clamped so that every later worker still gets an image.
      const end = rank === this.workers - 1 ? count : Math.min(count - left, Math.max(start + 1, Math.round((share / total) * count)))
      out.push([start, end])
      start = end
    }
    return out
  }

  /** Records a step: worker `rank` computed `images` in `busyMs` milliseconds (no images: ignored). */
  record(rank: number, images: number, busyMs: number): void {
    if (!(busyMs > 0) || images <= 0) return
    const old = this.speed[rank] as number
    const measured = images / busyMs
    // The first measurement replaces the placeholder.
    this.speed[rank] = this.measured[rank] ? old + this.smoothing * (measured - old) : measured
    this.measured[rank] = true
  }
}
