import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { BACKEND, heapF32, newWasmTensor } from '../backend/wasm-kernel-utils'

/** The fields of tfjs-layers' Dropout this needs (not in its typings). */
interface DropoutLayer {
  rate: number
  noiseShape?: unknown
  seed?: number
}

/**
 * A Dropout layer in training, where this applies (rate strictly between 0 and 1, no noise shape,
 * no fixed seed): x · mask, the mask 1/(1 − rate) with probability 1 − rate and 0 otherwise: what
 * tfjs's dropout computes, floor(u + keep)/keep · x. tfjs draws its uniforms with seedrandom's Alea
 * into a new JS array, copies them into the backend and spends three more ops on the mask; at width
 * ¼ that and the garbage it left were about 2 ms of a worker's step. Here a small 32-bit generator,
 * seeded from Math.random as tfjs seeds its own when no seed is given, writes the mask values
 * straight into the tensor (in wasm memory on wasm). Returns undefined where tfjs's own must run.
 */
export function trainingDropout(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor | undefined {
  if (layer.getClassName() !== 'Dropout') return undefined
  const { rate, noiseShape, seed } = layer as unknown as DropoutLayer
  if (!(rate > 0 && rate < 1) || noiseShape != null || seed != null || x.dtype !== 'float32') return undefined
  return tf.tidy(() => tf.mul(x, dropoutMask(x.shape, rate)))
}

/** A mask of `shape`: 1/(1 − rate) (in float32, as tfjs divides) where a draw is ≥ rate, else 0. */
export function dropoutMask(shape: number[], rate: number, seed = Math.random()): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1)
  const wasm = tf.getBackend() === BACKEND ? (tf.backend() as BackendWasm) : undefined
  const mask = wasm ? newWasmTensor(wasm, shape) : undefined
  const values = wasm && mask ? heapF32(wasm, mask) : new Float32Array(size)
  const scale = Math.fround(1 / Math.fround(1 - rate))
  // Draws are 32-bit integers: a draw is kept when draw / 2³² ≥ rate.
  const threshold = Math.ceil(rate * 4294967296)
  // mulberry32: a 32-bit state and one multiply-xorshift round per value; its period, 2³², is far
  // beyond one mask's size, and each mask starts from its own seed.
  let state = Math.floor(seed * 4294967296) >>> 0
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    values[i] = (t ^ (t >>> 14)) >>> 0 >= threshold ? scale : 0
  }
  return mask ?? tf.tensor(values, shape)
}
