/**
 * An independent reference for the softmax heads: multinomial logistic regression with the heads'
 * objective (mean cross-entropy + weightDecay/2 · ‖W‖², bias unpenalized), solved to convergence by
 * full-batch L-BFGS in plain Float64 JavaScript. It shares nothing with trainHead but the features
 * (no tfjs, no Adam, no mini-batches, zero start instead of Glorot), so a bug in either shows up as
 * disagreement between the two on the same standardized features.
 */

export interface ReferenceFit {
  /** dims × classes, row-major. */
  W: Float64Array
  b: Float64Array
  dims: number
  classes: number
  iterations: number
  loss: number
  /** Max-norm of the gradient at the solution. */
  gradNorm: number
  converged: boolean
}

/** Objective value and gradient at θ = [W (dims × classes), b (classes)]. */
function lossAndGradient(theta: Float64Array, x: Float32Array, labels: Int32Array, dims: number, classes: number, weightDecay: number, grad: Float64Array): number {
  const n = labels.length
  const bOffset = dims * classes
  grad.fill(0)
  const z = new Float64Array(classes)
  let loss = 0
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < classes; c++) z[c] = theta[bOffset + c]
    for (let d = 0; d < dims; d++) {
      const v = x[r * dims + d]
      if (v === 0) continue
      for (let c = 0; c < classes; c++) z[c] += v * theta[d * classes + c]
    }
    let max = -Infinity
    for (let c = 0; c < classes; c++) max = Math.max(max, z[c])
    let sum = 0
    for (let c = 0; c < classes; c++) sum += Math.exp(z[c] - max)
    const logSum = max + Math.log(sum)
    loss -= (z[labels[r]] - logSum) / n
    // dL/dz = (softmax − onehot) / n, accumulated into dW = xᵀ dZ and db = Σ dZ.
    for (let c = 0; c < classes; c++) z[c] = (Math.exp(z[c] - logSum) - (c === labels[r] ? 1 : 0)) / n
    for (let c = 0; c < classes; c++) grad[bOffset + c] += z[c]
    for (let d = 0; d < dims; d++) {
      const v = x[r * dims + d]
      if (v === 0) continue
      for (let c = 0; c < classes; c++) grad[d * classes + c] += v * z[c]
    }
  }
  for (let i = 0; i < bOffset; i++) {
    loss += (weightDecay / 2) * theta[i] * theta[i]
    grad[i] += weightDecay * theta[i]
  }
  return loss
}

const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i], 0)
const maxAbs = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)

/**
 * Fits the reference by L-BFGS (memory 10) with a backtracking Armijo line search, from zero, until
 * the gradient's max-norm is below `tolerance` or `maxIterations` pass.
 * @param x rows × dims features, already standardized as the head would standardize them
 */
export function fitReferenceLogReg(
  x: Float32Array,
  labels: Int32Array,
  dims: number,
  classes: number,
  options: { weightDecay: number; tolerance?: number; maxIterations?: number }
): ReferenceFit {
  if (x.length !== labels.length * dims) throw new Error(`feature matrix has ${x.length} values, expected ${labels.length} rows × ${dims}`)
  const tolerance = options.tolerance ?? 1e-6
  const maxIterations = options.maxIterations ?? 2000
  const size = dims * classes + classes
  let theta = new Float64Array(size)
  let grad = new Float64Array(size)
  let loss = lossAndGradient(theta, x, labels, dims, classes, options.weightDecay, grad)
  const history: { s: Float64Array; y: Float64Array; rho: number }[] = []
  let iterations = 0
  for (; iterations < maxIterations && maxAbs(grad) > tolerance; iterations++) {
    // Two-loop recursion: direction = −H·grad with H from the last pairs (scaled identity at first).
    const q = Float64Array.from(grad)
    const alphas: number[] = []
    for (let i = history.length - 1; i >= 0; i--) {
      const a = history[i].rho * dot(history[i].s, q)
      alphas[i] = a
      for (let j = 0; j < size; j++) q[j] -= a * history[i].y[j]
    }
    const last = history.at(-1)
    const gamma = last ? dot(last.s, last.y) / dot(last.y, last.y) : 1 / Math.max(1, maxAbs(grad))
    for (let j = 0; j < size; j++) q[j] *= gamma
    for (let i = 0; i < history.length; i++) {
      const beta = history[i].rho * dot(history[i].y, q)
      for (let j = 0; j < size; j++) q[j] += (alphas[i] - beta) * history[i].s[j]
    }
    const direction = q.map((v) => -v)
    let slope = dot(direction, grad)
    if (!(slope < 0)) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      history.length = 0
      for (let j = 0; j < size; j++) direction[j] = -grad[j] / Math.max(1, maxAbs(grad))
      slope = dot(direction, grad)
    }
    let step = 1
    const next = new Float64Array(size)
    const nextGrad = new Float64Array(size)
    let nextLoss = Infinity
    for (let tries = 0; tries < 60; tries++, step /= 2) {
      for (let j = 0; j < size; j++) next[j] = theta[j] + step * direction[j]
      nextLoss = lossAndGradient(next, x, labels, dims, classes, options.weightDecay, nextGrad)
      if (nextLoss <= loss + 1e-4 * step * slope) break
    }
    if (!(nextLoss < loss)) break // no further progress is possible in float64
    const s = next.map((v, j) => v - theta[j])
    const y = nextGrad.map((v, j) => v - grad[j])
    const sy = dot(s, y)
    if (sy > 1e-12) {
      history.push({ s, y, rho: 1 / sy })
      if (history.length > 10) history.shift()
    }
    theta = next
    grad = nextGrad
    loss = nextLoss
  }
  const gradNorm = maxAbs(grad)
  return { W: theta.slice(0, dims * classes), b: theta.slice(dims * classes), dims, classes, iterations, loss, gradNorm, converged: gradNorm <= tolerance }
}

/** Accuracy and mean cross-entropy of a fitted reference on (standardized) rows. */
export function evaluateReference(fit: ReferenceFit, x: Float32Array, labels: Int32Array): { acc: number; loss: number } {
  const { dims, classes } = fit
  let hits = 0
  let loss = 0
  const z = new Float64Array(classes)
  for (let r = 0; r < labels.length; r++) {
    for (let c = 0; c < classes; c++) z[c] = fit.b[c]
    for (let d = 0; d < dims; d++) for (let c = 0; c < classes; c++) z[c] += x[r * dims + d] * fit.W[d * classes + c]
    let best = 0
    for (let c = 1; c < classes; c++) if (z[c] > z[best]) best = c
    if (best === labels[r]) hits++
    const max = z[best]
    loss -= z[labels[r]] - max - Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0))
  }
  return { acc: hits / labels.length, loss: loss / labels.length }
}
