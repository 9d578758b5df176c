import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { SimdKernels, simdKernelsFor } from '../backend/simd/simd-kernels'
import { BACKEND, heapF32 } from '../backend/wasm-kernel-utils'

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
 * per-channel sums of x and x² are all-reduced forward, and the gradients of the mean and variance
 * backward (the two channel sums). Does what tfjs-layers' BatchNormalization does in training —
 * normalize with batch statistics (biased variance), update the moving averages — for channels-last
 * inputs, the only kind the VGG builds.
 */
export function syncedBatchNormTraining(layer: tf.layers.Layer, x: tf.Tensor, reducer: ChannelSumReducer): tf.Tensor {
  const bn = layer as unknown as BatchNormLayer
  if (bn.axis !== -1 && bn.axis !== x.rank - 1) throw new Error(`synced batch norm supports the channel axis last only (layer ${layer.name} has axis ${bn.axis})`)
  const channels = x.shape[x.rank - 1] as number
  const stats = syncedMoments(reducer)(x)
  const mean = tf.reshape(tf.slice(stats, [0, 0], [1, channels]), [channels])
  const variance = tf.reshape(tf.slice(stats, [1, 0], [1, channels]), [channels])
  const normed = tf.batchNorm(x, mean, variance, bn.beta?.read(), bn.gamma?.read(), bn.epsilon)
  tf.tidy(() => {
    // moving ← moving − (moving − batch)·(1 − momentum), as tfjs-layers writes it.
    for (const [variable, value] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const) {
      const old = variable.read()
      variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - bn.momentum)))
    }
  })
  return normed
}

/**
 * The whole batch's per-channel mean and biased variance as one [2, C] tensor, with its gradient:
 * with N the whole batch's count of values per channel, ∂mean/∂x = 1/N and ∂var/∂x = 2(x − mean)/N,
 * where the incoming gradients of mean and var are the sums over all workers.
 */
function syncedMoments(reducer: ChannelSumReducer): (x: tf.Tensor) => tf.Tensor {
  // customGrad's typing takes (...inputs: (Tensor | GradSaveFunc)[]); this op has one input.
  const op = (x: tf.Tensor, save: tf.GradSaveFunc) => {
    const channels = x.shape[x.rank - 1] as number
    const weight = reducer.shardWeight ?? 1
    const local = weight === 1 ? channelSums(x) : new Float64Array(1 + 2 * channels)
    const total = reducer.allReduceSmall(local)
    const count = total[0] as number
    const values = new Float32Array(2 * channels)
    for (let c = 0; c < channels; c++) {
      const mean = (total[1 + c] as number) / count
      values[c] = mean
      // Sums in float64: E[x²] − mean² loses nothing that matters at activation scales.
      values[channels + c] = Math.max(0, (total[1 + channels + c] as number) / count - mean * mean)
    }
    const value = tf.tensor2d(values, [2, channels])
    save([x])
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs] = saved as [tf.Tensor]
        const g = reducer.allReduceSmall(weight === 1 ? (dy.dataSync() as Float32Array) : new Float64Array(2 * channels))
        if (weight === 0) return tf.zerosLike(xs)
        const scale = new Float32Array(channels)
        const shift = new Float32Array(channels)
        for (let c = 0; c < channels; c++) {
          const dMean = g[c] as number
          const dVar = g[channels + c] as number
          scale[c] = (2 * dVar) / count
          shift[c] = (dMean - 2 * dVar * (values[c] as number)) / count
        }
        return tf.add(tf.mul(xs, tf.tensor1d(scale)), tf.tensor1d(shift))
      }
    }
  }
  return tf.customGrad(op as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor
}

/** [count, Σx per channel…, Σx² per channel…] over every axis but the last, in float64. */
function channelSums(x: tf.Tensor): Float64Array {
  const channels = x.shape[x.rank - 1] as number
  const out = new Float64Array(1 + 2 * channels)
  out[0] = x.size / channels
  const wasm = tf.getBackend() === BACKEND ? (tf.backend() as BackendWasm) : undefined
  const simd = wasm && channels % 4 === 0 ? simdKernelsFor(wasm) : undefined
  if (wasm && simd) {
    // The same sums in the same order, four channels at a time (kernels.wat).
    out.set(simd.channelSums(SimdKernels.offsetOf(wasm, x), out[0], channels), 1)
    return out
  }
  const data = wasm ? heapF32(wasm, x) : (x.dataSync() as Float32Array)
  for (let i = 0; i < data.length; ) {
    for (let c = 0; c < channels; c++, i++) {
      const v = data[i] as number
      out[1 + c] += v
      out[1 + channels + c] += v * v
    }
  }
  return out
}
