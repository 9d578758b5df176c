import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { batchNormGradientSums } from '../backend/batch-norm-gradient'
import { SimdKernels, simdKernelsFor } from '../backend/simd/simd-kernels'
import { BACKEND, newWasmTensor } from '../backend/wasm-kernel-utils'

/** Sums a small vector over every data-parallel worker (see train/parallel/collective.ts). */
export interface ChannelSumReducer {
  allReduceSmall(values: ArrayLike<number>): Float64Array
  /**
   * 0 when this worker's shard is a stand-in (the batch has fewer images than workers): it then adds
   * nothing to the sums and gets no gradient, though it still takes part in every exchange.
   */
  readonly shardWeight?: 0 | 1
}

/** The parts of tfjs-layers' BatchNormalization this needs (its fields are not in its typings). */
interface BatchNormLayer {
  epsilon: number
  momentum: number
  axis: number
  gamma: tf.LayerVariable | null
  beta: tf.LayerVariable | null
  movingMean: tf.LayerVariable
  movingVariance: tf.LayerVariable
}

/**
 * Batch norm in training mode with the statistics of the whole batch when the batch is split over
 * data-parallel workers: each worker holds a shard, and normalizing by the shard's own mean and
 * variance would change the mathematics (and the results) with the number of workers. So the
 * per-channel sums of x and x² are all-reduced forward, and the sums of dy and dy·(x − mean)
 * backward. Does what tfjs-layers' BatchNormalization does in training — normalize with batch
 * statistics (biased variance), update the moving averages — for channels-last inputs, the only
 * kind the VGG builds.
 *
 * Forward and backward are each one op (one pass over the activation on wasm, kernels.wat), where
 * tf.batchNorm and its gradient took eight elementwise passes and three reductions per layer.
 */
export function syncedBatchNormTraining(layer: tf.layers.Layer, x: tf.Tensor, reducer: ChannelSumReducer): tf.Tensor {
  const bn = layer as unknown as BatchNormLayer
  if (bn.axis !== -1 && bn.axis !== x.rank - 1) throw new Error(`synced batch norm supports the channel axis last only (layer ${layer.name} has axis ${bn.axis})`)
  const channels = x.shape[x.rank - 1] as number
  let stats: { mean: Float32Array; variance: Float32Array } | undefined
  const normalize = syncedNormalize(reducer, bn.epsilon, (mean, variance) => (stats = { mean, variance }))
  const gamma = bn.gamma?.read() ?? tf.ones([channels])
  const beta = bn.beta?.read() ?? tf.zeros([channels])
  const normed = normalize(x, gamma, beta)
  const { mean, variance } = stats as NonNullable<typeof stats>
  tf.tidy(() => {
    for (const [variable, value] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const) {
      variable.write(movingAverage(variable.read(), value, bn.momentum))
    }
  })
  return normed
}

/**
 * moving − (moving − batch)·(1 − momentum), as tfjs-layers writes it. On the CPU backends in JS, in
 * float32 steps (Math.fround after each operation: the same bits as the three tf ops), where those
 * ops cost more in the engine than in arithmetic: 48 ops on vectors of 16 to 512 values per VGG11-BN step.
 */
export function movingAverage(moving: tf.Tensor, batch: Float32Array, momentum: number): tf.Tensor {
  const backend = tf.getBackend()
  if (backend !== BACKEND && backend !== 'cpu') return tf.sub(moving, tf.mul(tf.sub(moving, tf.tensor1d(batch)), 1 - momentum))
  const old = moving.dataSync() as Float32Array
  const keep = Math.fround(1 - momentum)
  const next = new Float32Array(old.length)
  for (let c = 0; c < old.length; c++) {
    const m = old[c] as number
    next[c] = m - Math.fround(Math.fround(m - (batch[c] as number)) * keep)
  }
  return tf.tensor1d(next)
}

/**
 * y = (x − mean)·γ/√(var + ε) + β with the whole batch's per-channel mean and biased variance, as
 * one op with its gradient. With N the whole batch's count of values per channel, r = 1/√(var + ε),
 * a = γ·r, and S₁ = Σdy, S₂ = Σdy·(x − mean) summed over every worker:
 * dx = a·dy − a·r²·S₂/N·(x − mean) − a·S₁/N, while dγ = r·Σdy·(x − mean) and dβ = Σdy over this
 * worker's shard only (parameter gradients are summed across workers afterwards, with the rest).
 * `onStats` receives the batch's mean and variance, for the moving averages.
 */
function syncedNormalize(
  reducer: ChannelSumReducer, epsilon: number, onStats: (mean: Float32Array, variance: Float32Array) => void
): (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor {
  // customGrad's typing takes (...inputs: (Tensor | GradSaveFunc)[]); this op has three inputs.
  const op = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
    const channels = x.shape[x.rank - 1] as number
    const weight = reducer.shardWeight ?? 1
    const total = reducer.allReduceSmall(weight === 1 ? channelSums(x) : new Float64Array(1 + 2 * channels))
    const count = total[0] as number
    const mean = new Float32Array(channels)
    const variance = new Float32Array(channels)
    const r = new Float64Array(channels)
    const g = gamma.dataSync() as Float32Array
    const a = new Float32Array(channels)
    for (let c = 0; c < channels; c++) {
      const m = (total[1 + c] as number) / count
      mean[c] = m
      // Sums in float64: E[x²] − mean² loses nothing that matters at activation scales.
      variance[c] = Math.max(0, (total[1 + channels + c] as number) / count - m * m)
      r[c] = 1 / Math.sqrt((variance[c] as number) + epsilon)
      a[c] = (g[c] as number) * (r[c] as number)
    }
    onStats(mean, variance)
    const value = applyNormalization(x, mean, a, beta.dataSync() as Float32Array)
    save([x])
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs] = saved as [tf.Tensor]
        const local = weight === 1 ? batchNormGradientSums(xs, dy, tf.tensor1d(mean)) : new Float64Array(2 * channels)
        const sums = reducer.allReduceSmall(local)
        if (weight === 0) return [tf.zerosLike(xs), tf.zeros([channels]), tf.zeros([channels])]
        const h = new Float32Array(channels)
        const k = new Float32Array(channels)
        const dGamma = new Float32Array(channels)
        const dBeta = new Float32Array(channels)
        for (let c = 0; c < channels; c++) {
          const rc = r[c] as number
          const ac = a[c] as number
          h[c] = (-ac * rc * rc * (sums[channels + c] as number)) / count
          k[c] = (-ac * (sums[c] as number)) / count
          dGamma[c] = rc * (local[channels + c] as number)
          dBeta[c] = local[c] as number
        }
        return [inputGradient(xs, dy, mean, a, h, k), tf.tensor1d(dGamma), tf.tensor1d(dBeta)]
      }
    }
  }
  return tf.customGrad(op as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor
}

/** The SIMD kernels when x is a float32 wasm tensor with whole groups of 4 channels; else undefined. */
function simdFor(x: tf.Tensor): { wasm: BackendWasm; simd: SimdKernels } | undefined {
  if (tf.getBackend() !== BACKEND || x.dtype !== 'float32' || (x.shape[x.rank - 1] as number) % 4 !== 0) return undefined
  const wasm = tf.backend() as BackendWasm
  const simd = simdKernelsFor(wasm)
  return simd ? { wasm, simd } : undefined
}

/** (x − mean)·a + beta per channel. */
function applyNormalization(x: tf.Tensor, mean: Float32Array, a: Float32Array, beta: Float32Array): tf.Tensor {
  const kernels = simdFor(x)
  if (!kernels) return tf.add(tf.mul(tf.sub(x, tf.tensor1d(mean)), tf.tensor1d(a)), tf.tensor1d(beta))
  const { wasm, simd } = kernels
  const channels = mean.length
  const out = newWasmTensor(wasm, x.shape)
  simd.batchNormApply(SimdKernels.offsetOf(wasm, x), SimdKernels.offsetOf(wasm, out), x.size / channels, channels, mean, a, beta)
  return out
}

/** dy·g + (x − mean)·h + k per channel. */
function inputGradient(x: tf.Tensor, dy: tf.Tensor, mean: Float32Array, g: Float32Array, h: Float32Array, k: Float32Array): tf.Tensor {
  const kernels = simdFor(x)
  if (!kernels || dy.dtype !== 'float32') {
    const centred = tf.sub(x, tf.tensor1d(mean))
    return tf.add(tf.add(tf.mul(dy, tf.tensor1d(g)), tf.mul(centred, tf.tensor1d(h))), tf.tensor1d(k))
  }
  const { wasm, simd } = kernels
  const channels = mean.length
  const out = newWasmTensor(wasm, x.shape)
  const offset = (t: tf.Tensor): number => SimdKernels.offsetOf(wasm, t)
  simd.batchNormBackward(offset(x), offset(dy), offset(out), x.size / channels, channels, mean, g, h, k)
  return out
}

/** [count, Σx per channel…, Σx² per channel…] over every axis but the last, in float64. */
function channelSums(x: tf.Tensor): Float64Array {
  const channels = x.shape[x.rank - 1] as number
  const out = new Float64Array(1 + 2 * channels)
  out[0] = x.size / channels
  const kernels = simdFor(x)
  if (kernels) {
    // The same sums in the same order, four channels at a time (kernels.wat).
    out.set(kernels.simd.channelSums(SimdKernels.offsetOf(kernels.wasm, x), out[0], channels), 1)
    return out
  }
  const data = x.dataSync() as Float32Array
  for (let i = 0; i < data.length; ) {
    for (let c = 0; c < channels; c++, i++) {
      const v = data[i] as number
      out[1 + c] += v
      out[1 + channels + c] += v * v
    }
  }
  return out
}
