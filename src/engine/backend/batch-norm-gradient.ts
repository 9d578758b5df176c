import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { SimdKernels, simdKernelsFor } from './simd/simd-kernels'
import { BACKEND, heapF32 } from './wasm-kernel-utils'

/**
 * Replaces tfjs-core's FusedBatchNorm gradient with the same mathematics minus its `tile`: core
 * tiles 1/√(var+ε) to the activation's full shape before multiplying, where a broadcast multiply
 * gives the same numbers. On the wasm backend that Tile was 15% of a VGG11-BN training step
 * (bench/profile-step.ts, width ¼). Gradients are global in tfjs, so this applies to every backend.
 *
 * On wasm, per-channel batch norm (the only kind the VGG builds) goes further: one pass over the
 * activation, in JS over wasm memory, sums dy and dy·(x−μ) per channel, from which the gradients of
 * μ, σ², γ and β follow as small vectors; dx is one broadcast multiply. The composite takes seven
 * elementwise passes and four reductions.
 */
export function registerBatchNormGradient(): void {
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number }
      const [x, mean, variance, scale] = saved
      const dyTensor = dy as tf.Tensor
      if (fusable(x, mean, variance, scale, dyTensor)) return fusedGradients(x, dyTensor, mean, variance, scale, varianceEpsilon)
      const scaleValue = scale == null ? tf.scalar(1) : scale
      const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape)
      const reduce = (t: tf.Tensor): tf.Tensor => tf.reshape(mean.rank === 1 ? tf.sum(t, reductionAxes) : t, mean.shape)
      const xMinusMean = tf.sub(x, mean)
      const dyTimesScale = tf.mul(dyTensor, scaleValue)
      const rstd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)))
      return {
        // Broadcasting a per-channel vector against NHWC needs no tile.
        x: () => tf.reshape(tf.mul(dyTensor, tf.mul(rstd, scaleValue)), x.shape),
        mean: () => reduce(tf.mul(tf.neg(rstd), dyTimesScale)),
        variance: () => reduce(tf.mul(tf.mul(tf.mul(tf.mul(rstd, rstd), rstd), tf.scalar(-0.5)), tf.mul(xMinusMean, dyTimesScale))),
        scale: () => reduce(tf.mul(dyTensor, tf.mul(xMinusMean, rstd))),
        offset: () => reduce(dyTensor)
      }
    }
  })
}

/** Per-channel float32 batch norm over the last axis, on wasm with the fused kernel registered. */
function fusable(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, scale: tf.Tensor | undefined, dy: tf.Tensor): boolean {
  if (tf.getBackend() !== BACKEND) return false
  const channels = x.shape[x.rank - 1]
  const perChannel = (t: tf.Tensor | undefined): boolean => t == null || (t.rank === 1 && t.shape[0] === channels && t.dtype === 'float32')
  return x.rank >= 1 && x.dtype === 'float32' && dy.dtype === 'float32' && perChannel(mean) && perChannel(variance) && perChannel(scale) && mean != null && variance != null
}

/**
 * With r = 1/√(var+ε), γ the scale (1 without one), and sums over every axis but the last:
 * dx = dy·γ·r, dμ = −r·γ·Σdy, dvar = −½·r³·γ·Σdy(x−μ), dγ = r·Σdy(x−μ), dβ = Σdy — the same
 * expressions as the composite. The engine calls each closure in its own tidy and only for inputs on
 * the gradient's path, so what they share is plain JS (the channel sums), never a tensor.
 */
function fusedGradients(
  x: tf.Tensor, dy: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, scale: tf.Tensor | undefined, epsilon: number
): Record<string, () => tf.Tensor> {
  const channels = x.shape[x.rank - 1]
  const v = variance.dataSync() as Float32Array
  const gamma = scale ? (scale.dataSync() as Float32Array) : undefined
  const r = Float64Array.from(v, (value) => 1 / Math.sqrt(value + epsilon))
  const s = (c: number): number => (gamma ? gamma[c] : 1)
  let sums: { dy: Float64Array; dyXmu: Float64Array } | undefined
  const channelSums = (): { dy: Float64Array; dyXmu: Float64Array } => {
    if (sums) return sums
    const both = batchNormGradientSums(x, dy, mean)
    return (sums = { dy: both.subarray(0, channels), dyXmu: both.subarray(channels) })
  }
  const perChannel = (f: (c: number, sum: { dy: Float64Array; dyXmu: Float64Array }) => number) => (): tf.Tensor => {
    const sum = channelSums()
    return tf.tensor1d(Float32Array.from({ length: channels }, (_, c) => f(c, sum)))
  }
  return {
    x: () => tf.mul(dy, tf.tensor1d(Float32Array.from({ length: channels }, (_, c) => s(c) * r[c]))),
    mean: perChannel((c, sum) => -r[c] * s(c) * sum.dy[c]),
    variance: perChannel((c, sum) => -0.5 * r[c] * r[c] * r[c] * s(c) * sum.dyXmu[c]),
    scale: perChannel((c, sum) => r[c] * sum.dyXmu[c]),
    offset: perChannel((c, sum) => sum.dy[c])
  }
}

/**
 * [Σdy per channel…, Σdy·(x − mean) per channel…] over every axis but the last, in float64 and in
 * the order of the positions; on wasm four channels at a time when they come in fours (kernels.wat),
 * which gives the same bits as the loop.
 */
export function batchNormGradientSums(x: tf.Tensor, dy: tf.Tensor, mean: tf.Tensor): Float64Array {
  const channels = x.shape[x.rank - 1] as number
  const positions = x.size / channels
  const wasm = tf.getBackend() === BACKEND ? (tf.backend() as BackendWasm) : undefined
  const float32 = x.dtype === 'float32' && dy.dtype === 'float32' && mean.dtype === 'float32'
  const simd = wasm && float32 && channels % 4 === 0 ? simdKernelsFor(wasm) : undefined
  if (wasm && simd) {
    const offset = (t: tf.Tensor): number => SimdKernels.offsetOf(wasm, t)
    return simd.batchNormGradSums(offset(x), offset(dy), offset(mean), positions, channels)
  }
  const xs = wasm && float32 ? heapF32(wasm, x) : (x.dataSync() as Float32Array)
  const g = wasm && float32 ? heapF32(wasm, dy) : (dy.dataSync() as Float32Array)
  const mu = mean.dataSync() as Float32Array
  const out = new Float64Array(2 * channels)
  for (let i = 0; i < xs.length; ) {
    for (let c = 0; c < channels; c++, i++) {
      const d = g[i] as number
      out[c] += d
      out[channels + c] += d * ((xs[i] as number) - (mu[c] as number))
    }
  }
  return out
}
