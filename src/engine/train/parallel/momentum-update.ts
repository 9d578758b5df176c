import type { SimdKernels } from '../../backend/simd/simd-kernels'

/**
 * The SGD step of data-parallel workers in one pass over memory: sum the workers' gradients, add L2
 * decay, update the momentum buffer and the weights. The same mathematics as `applyUpdate` with
 * tfjs's MomentumOptimizer (PyTorch's SGD: g += wd·w; v = μ·v + g; w −= lr·v, or with Nesterov
 * w −= lr·(g + μ·v)), which on wasm runs as six ops and a fresh tensor per weight: at width ¼ that
 * was 20 ms of a 230 ms step (bench, WORKBENCH_PROFILE_WORKERS=1).
 *
 * Sums run in rank order in double precision, so every worker computes bit-identical weights.
 */
export interface MomentumSettings {
  lr: number
  momentum: number
  useNesterov: boolean
  weightDecay: number
}

/**
 * Writes one variable's updated values into `updated` (which may be `weights` itself) and updates
 * its `velocity` in place, from the gradient regions of all workers read at `offset`.
 */
export function momentumUpdate(regions: readonly Float32Array[], offset: number, weights: Float32Array, updated: Float32Array, velocity: Float32Array, s: MomentumSettings): void {
  const n = weights.length
  const { lr, momentum: mu, weightDecay: wd, useNesterov } = s
  const nesterov = useNesterov ? 1 : 0
  const r0 = regions[0] as Float32Array
  // Two workers (the common case) in one tight loop; any other count sums into a scratch first.
  let r1: Float32Array
  let o1 = offset
  if (regions.length === 2) r1 = regions[1] as Float32Array
  else {
    r1 = new Float32Array(n)
    for (let k = 1; k < regions.length; k++) {
      const r = regions[k] as Float32Array
      for (let j = 0; j < n; j++) r1[j] = (r1[j] as number) + (r[offset + j] as number)
    }
    o1 = 0
  }
  for (let j = 0; j < n; j++) {
    const w = weights[j] as number
    const g = (r0[offset + j] as number) + (r1[o1 + j] as number) + wd * w
    const v = mu * (velocity[j] as number) + g
    velocity[j] = v
    updated[j] = w - lr * (v + nesterov * (g + mu * v - v))
  }
}

/** Values per chunk of the wasm update: its three operand buffers stay in the core's L2 cache. */
export const MOMENTUM_CHUNK = 32 * 1024

/**
 * `momentumUpdate` in wasm SIMD (kernels.wat), for a variable whose weights are at `weights` and
 * whose updated values go to `updated` (byte offsets in `simd`'s memory; they may be equal). The
 * gradient regions and the momentum buffer live outside wasm memory, so they pass through the
 * scratch area a chunk at a time. In float32, as tfjs's optimizer computes; the regions are summed
 * in order, so every worker still computes the same bits.
 *
 * `first`, when given, is the byte offset in wasm memory of the first summand (a worker's own
 * gradients, never copied out of wasm): the regions are then the ones added to it. With more than
 * one region the sums are made in place there, so its values are lost.
 */
export function momentumUpdateWasm(
  simd: SimdKernels,
  regions: readonly Float32Array[],
  offset: number,
  weights: number,
  updated: number,
  n: number,
  velocity: Float32Array,
  s: MomentumSettings,
  first?: number
): void {
  const bytes = 4 * Math.min(MOMENTUM_CHUNK, n)
  const scratch = simd.scratch(3 * bytes)
  const last = scratch + bytes
  const v = last + bytes
  const k = simd.exports
  // No allocation happens below, so the view stays valid.
  const heap = simd.heapF32()
  // The summands added to the first (the first from wasm memory, or copied into the scratch).
  const rest = first === undefined ? regions.slice(1) : regions
  for (let j = 0; j < n; j += MOMENTUM_CHUNK) {
    const len = Math.min(MOMENTUM_CHUNK, n - j)
    const from = offset + j
    let sum = scratch
    if (first === undefined) heap.set((regions[0] as Float32Array).subarray(from, from + len), scratch / 4)
    else sum = first + 4 * j
    // sum = r0 + … + r(k−2), last = r(k−1): the kernel adds them, so the order is r0, r1, … .
    if (rest.length === 0) heap.fill(0, last / 4, last / 4 + len)
    rest.forEach((region, r) => {
      heap.set(region.subarray(from, from + len), last / 4)
      if (r < rest.length - 1) k.add_into(sum, last, len)
    })
    heap.set(velocity.subarray(j, j + len), v / 4)
    k.momentum_step(weights + 4 * j, sum, last, v, updated + 4 * j, len, s.lr, s.momentum, s.weightDecay, s.useNesterov ? 1 : 0)
    velocity.set(heap.subarray(v / 4, v / 4 + len), j)
  }
}
