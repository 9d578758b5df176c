/**
 * Collective operations for data-parallel training across worker threads, over one SharedArrayBuffer:
 * a barrier, an all-reduce of small float64 vectors (batch-norm channel sums), and a reduce-scatter of
 * the gradients followed by an all-gather of the updated weights, through a small exchange area.
 *
 * The flattened trainable weights are cut into one slice per worker. Each worker updates only its own
 * slice (momentum-update.ts): it adds the gradients the others left for it to its own (still in its
 * wasm memory), updates that slice of the shared momentum buffer, and leaves the slice's new weights
 * for the others to copy. That goes in rounds of at most ROUND_VALUES values per slice, so the
 * exchange area is workers² × ROUND_VALUES floats (16 MB for two workers) however large the model:
 * at width 1 one full gradient copy per worker and a momentum buffer per worker were 4 × 107 MB
 * (issue 20). Every weight is computed by exactly one worker, so all replicas hold the same bits.
 *
 * Before the first step and between steps the exchange area is free: the coordinator passes the
 * initial weights to the workers through it and reads the trained ones back (data-parallel.ts).
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

/**
 * Values of one slice per round of the update (4 MB): small enough that the exchange area costs
 * little, large enough that the two barriers of a round are few (14 rounds at width 1).
 */
export const ROUND_VALUES = 1 << 20

export interface CollectiveLayout {
  workers: number
  /** Float32 elements of every trainable weight, flattened. */
  gradientElements: number
  /** Values per slice in one round of the update; ROUND_VALUES unless set (tests set it small to run many rounds). */
  roundValues?: number
}

export class CollectiveAbortedError extends Error {
  override name = 'CollectiveAbortedError'
  /** True when another worker (or the coordinator) gave up first: this is a consequence, not the cause. */
  constructor(message: string, readonly byPeer: boolean) {
    super(message)
  }
}

/** Values per slice in one round: ROUND_VALUES, or fewer when a whole slice is smaller. */
export function roundValues(layout: CollectiveLayout): number {
  const bounds = sliceBounds(layout)
  const longest = Math.max(...bounds.slice(1).map((end, s) => end - (bounds[s] as number)))
  return Math.max(4, Math.min(layout.roundValues ?? ROUND_VALUES, longest))
}

/** Bytes of the shared buffer for a layout. */
export function collectiveBytes(layout: CollectiveLayout): number {
  // control, then 2 (double-buffered) × workers small float64 slots, then the exchange area: per
  // slice, the other workers' gradients of one round and the round's updated weights.
  return CONTROL_WORDS * 4 + 2 * layout.workers * MAX_SMALL_VALUES * 8 + layout.workers * layout.workers * roundValues(layout) * 4
}

/**
 * Where each worker's slice of the flattened trainable values starts, and the end: workers + 1
 * bounds. Equal slices, cut at multiples of 4 values so the SIMD update runs whole vectors.
 */
export function sliceBounds({ workers, gradientElements }: CollectiveLayout): number[] {
  return Array.from({ length: workers + 1 }, (_, s) => (s === workers ? gradientElements : Math.min(gradientElements, 4 * Math.floor((s * gradientElements) / workers / 4))))
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
  /** workers × workers × roundValues: per slice, the others' gradients of a round, then its updated weights. */
  private readonly exchange: Float32Array
  /** Values per slice in one round. */
  readonly roundValues: number
  /** Rounds of an update: enough for the longest slice. */
  readonly rounds: number
  /** sliceBounds of the layout. */
  readonly bounds: readonly number[]
  private smallCalls = 0
  /** Milliseconds spent waiting at barriers (for profiling: time the other workers were slower). */
  waitedMs = 0

  constructor(buffer: SharedArrayBuffer, layout: CollectiveLayout, rank: number) {
    this.workers = layout.workers
    this.rank = rank
    this.control = new Int32Array(buffer, 0, CONTROL_WORDS)
    const smallOffset = CONTROL_WORDS * 4
    this.small = new Float64Array(buffer, smallOffset, 2 * layout.workers * MAX_SMALL_VALUES)
    this.roundValues = roundValues(layout)
    this.exchange = new Float32Array(buffer, smallOffset + this.small.byteLength, layout.workers * layout.workers * this.roundValues)
    this.bounds = sliceBounds(layout)
    this.rounds = Math.max(1, ...this.bounds.slice(1).map((end, s) => Math.ceil((end - (this.bounds[s] as number)) / this.roundValues)))
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

  /**
   * The whole exchange area. Before the first step and between steps nothing else uses it: the
   * coordinator passes weights to and from the workers through it.
   */
  get area(): Float32Array {
    return this.exchange
  }

  /** [start, end) of worker `owner`'s slice of the flattened trainable values. */
  slice(owner: number): [number, number] {
    return [this.bounds[owner] as number, this.bounds[owner + 1] as number]
  }

  /** [start, end) of the flattened trainable values of slice `owner` that round `round` updates (maybe empty). */
  roundRange(owner: number, round: number): [number, number] {
    const [start, end] = this.slice(owner)
    const lo = Math.min(end, start + round * this.roundValues)
    return [lo, Math.min(end, lo + this.roundValues)]
  }

  /**
   * Where worker `from` leaves its gradients of slice `owner`'s values in a round (from the round's
   * first value) for the slice's owner; from ≠ owner. Written before the round's first barrier, read
   * by the owner only, between it and the round's second barrier.
   */
  contribution(owner: number, from: number): Float32Array {
    if (from === owner) throw new RangeError(`worker ${owner} keeps its own gradients of its slice`)
    const at = (owner * this.workers + (from < owner ? from : from - 1)) * this.roundValues
    return this.exchange.subarray(at, at + this.roundValues)
  }

  /**
   * Where the owner of slice `owner` leaves a round's updated weights for the others: written
   * between the round's two barriers, read by the others after the second and before the next
   * round's first (or the step's closing barrier).
   */
  updated(owner: number): Float32Array {
    const at = (owner * this.workers + this.workers - 1) * this.roundValues
    return this.exchange.subarray(at, at + this.roundValues)
  }
}
