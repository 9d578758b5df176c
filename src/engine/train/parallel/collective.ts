/**
 * Collective operations for data-parallel training across worker threads, over one SharedArrayBuffer:
 * a barrier, an all-reduce of small float64 vectors (batch-norm channel sums), and one float32
 * gradient region per worker, which every worker reads whole to sum (momentum-update.ts).
 *
 * Every worker sums the contributions in rank order, so all of them hold bit-identical results and
 * apply bit-identical updates: their weights never drift apart, and no weights are ever exchanged.
 *
 * A worker that fails sets the abort flag; the others stop waiting and throw instead of hanging.
 */

/** Int32 control words at the start of the buffer. */
const GENERATION = 0
const ARRIVED = 1
const ABORTED = 2
const CONTROL_WORDS = 4

/** Waits are sliced so an abort (or a dead peer) is noticed; a barrier that waits this long is broken. */
const WAIT_SLICE_MS = 1000
const BARRIER_TIMEOUT_MS = 10 * 60 * 1000
/** Loads of the generation word before sleeping (a few tens of microseconds). */
const SPIN_CHECKS = 20_000

/** Channel sums exchanged per batch-norm call: 1 count + 2 × channels ≤ 1 + 2 × 4096. */
export const MAX_SMALL_VALUES = 8192 + 1

export interface CollectiveLayout {
  workers: number
  /** Float32 elements of one worker's gradient region (every trainable weight, flattened). */
  gradientElements: number
}

export class CollectiveAbortedError extends Error {
  override name = 'CollectiveAbortedError'
  /** True when another worker (or the coordinator) gave up first: this is a consequence, not the cause. */
  constructor(message: string, readonly byPeer: boolean) {
    super(message)
  }
}

/** Bytes of the shared buffer for a layout. */
export function collectiveBytes({ workers, gradientElements }: CollectiveLayout): number {
  // control, then 2 (double-buffered) × workers small float64 slots, then workers gradient regions.
  return CONTROL_WORDS * 4 + 2 * workers * MAX_SMALL_VALUES * 8 + workers * gradientElements * 4
}

export function createCollectiveBuffer(layout: CollectiveLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(collectiveBytes(layout))
}

/** Marks the collective aborted from outside (the coordinating thread, when a worker died). */
export function abortCollective(buffer: SharedArrayBuffer): void {
  const control = new Int32Array(buffer, 0, CONTROL_WORDS)
  Atomics.store(control, ABORTED, 1)
  Atomics.notify(control, GENERATION)
}

/** One worker's handle on the shared buffer. */
export class Collective {
  readonly workers: number
  readonly rank: number
  private readonly control: Int32Array
  /** [parity][rank] slots of MAX_SMALL_VALUES float64. */
  private readonly small: Float64Array
  private readonly gradients: Float32Array[]
  private smallCalls = 0
  /** Milliseconds spent waiting at barriers (for profiling: time the other workers were slower). */
  waitedMs = 0

  constructor(buffer: SharedArrayBuffer, layout: CollectiveLayout, rank: number) {
    this.workers = layout.workers
    this.rank = rank
    this.control = new Int32Array(buffer, 0, CONTROL_WORDS)
    const smallOffset = CONTROL_WORDS * 4
    this.small = new Float64Array(buffer, smallOffset, 2 * layout.workers * MAX_SMALL_VALUES)
    const gradientOffset = smallOffset + this.small.byteLength
    this.gradients = Array.from({ length: layout.workers }, (_, r) => new Float32Array(buffer, gradientOffset + r * layout.gradientElements * 4, layout.gradientElements))
  }

  /** Blocks until every worker has arrived (a sense-reversing barrier on a generation counter). */
  barrier(): void {
    const generation = Atomics.load(this.control, GENERATION)
    if (Atomics.add(this.control, ARRIVED, 1) === this.workers - 1) {
      Atomics.store(this.control, ARRIVED, 0)
      Atomics.add(this.control, GENERATION, 1)
      Atomics.notify(this.control, GENERATION)
      return
    }
    const start = performance.now()
    // Spin briefly first: the others usually arrive within microseconds, and a futex wake-up costs more.
    for (let i = 0; i < SPIN_CHECKS && Atomics.load(this.control, GENERATION) === generation; i++);
    const deadline = Date.now() + BARRIER_TIMEOUT_MS
    while (Atomics.load(this.control, GENERATION) === generation) {
      if (Atomics.load(this.control, ABORTED) !== 0) throw new CollectiveAbortedError('another training worker failed', true)
      if (Date.now() > deadline) throw new CollectiveAbortedError(`a training worker did not reach the barrier in ${BARRIER_TIMEOUT_MS / 60_000} minutes`, false)
      Atomics.wait(this.control, GENERATION, generation, WAIT_SLICE_MS)
    }
    this.waitedMs += performance.now() - start
  }

  /** Marks the collective aborted and wakes the waiting workers (they throw). */
  abort(): void {
    Atomics.store(this.control, ABORTED, 1)
    Atomics.notify(this.control, GENERATION)
  }

  /**
   * Sums a small vector over the workers; every worker gets the same sum. One barrier: the slots
   * alternate between two sets, and a set is written again only after the next call's barrier,
   * when every worker has finished reading it.
   */
  allReduceSmall(values: ArrayLike<number>): Float64Array {
    if (values.length > MAX_SMALL_VALUES) throw new RangeError(`allReduceSmall: ${values.length} values, at most ${MAX_SMALL_VALUES}`)
    if (this.workers === 1) return Float64Array.from(values)
    const parity = this.smallCalls++ & 1
    const slot = (rank: number): number => (parity * this.workers + rank) * MAX_SMALL_VALUES
    this.small.set(values, slot(this.rank))
    this.barrier()
    const out = new Float64Array(values.length)
    for (let r = 0; r < this.workers; r++) {
      const base = slot(r)
      for (let i = 0; i < out.length; i++) out[i] += this.small[base + i]
    }
    return out
  }

  /** This worker's gradient region: write its gradients here, then `barrier()`, then read `regions`. */
  get ownGradients(): Float32Array {
    return this.gradients[this.rank] as Float32Array
  }

  /**
   * Every worker's gradient region, in rank order. Read them only between the barrier after the
   * writes and the next barrier: no worker writes its region for the next step before that one.
   */
  get regions(): readonly Float32Array[] {
    return this.gradients
  }
}
