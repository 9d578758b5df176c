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
