import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { SimdKernels, simdKernelsFor } from './simd/simd-kernels'
import { heapF32, replaceKernel } from './wasm-kernel-utils'

/**
 * MaxPoolGrad for the wasm backend, as one pass over the pooled outputs: each output finds the first
 * maximum of its window (row-major, as tfjs's cpu backend does) and adds its gradient there. wasm's
 * own kernel is a generic loop that was 7% of a VGG11-BN training step at width ¼.
 */

const MAX_POOL_GRAD = 'MaxPoolGrad'

type KernelArgs = Parameters<tf.KernelFunc>[0]

/** Registers the MaxPoolGrad for wasm. Idempotent. */
export function registerWasmMaxPoolGrad(): void {
  replaceKernel(MAX_POOL_GRAD, maxPoolGrad)
}

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo }
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode)
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info
  const channels = info.inChannels
  const { top, left } = info.padInfo
  const dx = wasm.makeOutput(input.shape, 'float32')
  const x = heapF32(wasm, input)
  const g = heapF32(wasm, dy)
  const out = heapF32(wasm, dx)
  if (fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0 && inHeight === 2 * outHeight && inWidth === 2 * outWidth) {
    const simd = channels % 4 === 0 && input.dtype === 'float32' ? simdKernelsFor(wasm) : undefined
    if (simd) {
      // The same rule four channels at a time (kernels.wat): the five pools of a width-¼ worker step
      // took 4.8 ms in JS, 0.8 here (bench/profile-step.ts --worker).
      const offset = (t: tf.TensorInfo): number => SimdKernels.offsetOf(wasm, t)
      simd.exports.max_pool_2x2_grad(offset(input), offset(dy), offset(dx), batchSize * outHeight, outWidth, channels)
      return dx
    }
    pool2x2Gradient(x, g, out, batchSize * outHeight, outWidth, channels)
    return dx
  }
  out.fill(0)
  const rowStride = inWidth * channels
  const imageStride = inHeight * rowStride
  let gi = 0
  for (let b = 0; b < batchSize; b++) {
    const image = b * imageStride
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left
        for (let c = 0; c < channels; c++, gi++) {
          let best = -Infinity
          let at = -1
          for (let wy = 0; wy < fh; wy += dh) {
            const y = y0 + wy
            if (y < 0 || y >= inHeight) continue
            for (let wx = 0; wx < fw; wx += dw) {
              const xx = x0 + wx
              if (xx < 0 || xx >= inWidth) continue
              const i = image + y * rowStride + xx * channels + c
              if (x[i] > best) {
                best = x[i]
                at = i
              }
            }
          }
          if (at >= 0) out[at] += g[gi]
        }
      }
    }
  }
  return dx
}

/**
 * The VGG case, 2×2 windows at stride 2 tiling the input exactly: every input belongs to one window,
 * so each of the four is written once (no zero fill, no accumulation), with the same first-maximum
 * rule as the general loop. Half the time of the general loop (bench/profile-step.ts --worker).
 */
function pool2x2Gradient(x: Float32Array, g: Float32Array, out: Float32Array, outRows: number, outWidth: number, channels: number): void {
  const rowStride = 2 * outWidth * channels
  let gi = 0
  for (let r = 0; r < outRows; r++) {
    // Output row r (over every image) reads input rows 2r and 2r + 1.
    let i00 = 2 * r * rowStride
    for (let ox = 0; ox < outWidth; ox++, i00 += channels) {
      for (let c = 0; c < channels; c++, i00++, gi++) {
        const i01 = i00 + channels
        const i10 = i00 + rowStride
        const i11 = i10 + channels
        let best = -Infinity
        let at = -1
        const a = x[i00] as number
        if (a > best) {
          best = a
          at = 0
        }
        const b = x[i01] as number
        if (b > best) {
          best = b
          at = 1
        }
        const d = x[i10] as number
        if (d > best) {
          best = d
          at = 2
        }
        const e = x[i11] as number
        if (e > best) at = 3
        const grad = g[gi] as number
        out[i00] = at === 0 ? grad : 0
        out[i01] = at === 1 ? grad : 0
        out[i10] = at === 2 ? grad : 0
        out[i11] = at === 3 ? grad : 0
      }
    }
  }
}
