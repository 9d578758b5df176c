import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { SimdKernels, simdKernelsFor } from './simd/simd-kernels'
import { heapF32View, padImage, replaceKernel, withScratch } from './wasm-kernel-utils'

const FUSED_CONV = 'FusedConv2D'

type TensorInfo = tf.TensorInfo
type Shape4 = [number, number, number, number]
type KernelArgs = Parameters<tf.KernelFunc>[0]

/** wasm's own FusedConv2D (XNNPACK): everything ours does not take. */
let original: tf.KernelConfig | undefined

/**
 * A convolution layer's forward pass (FusedConv2D: convolution plus bias) in the workbench's SIMD
 * kernel where it applies: stride 1, no dilation, NHWC, at least 8 input channels, a multiple of 8
 * output channels, at least 16 output positions per image, no activation, float32. That kernel (kernels.wat, conv_input_grad) sums 4 positions × 8 channels in
 * registers over every tap and input channel from a filter packed for it; run on the zero-padded
 * image with the filter rotated 180°, it is the forward convolution. XNNPACK packs the filter on
 * every call too (training changes it every step). VGG11's convolutions at batch 32
 * (bench/conv-gradients.ts, all eight layers, each where it runs faster): width 1 343 → 287 ms,
 * width ¼ 23.2 → 20.8 ms. Anything else goes to wasm's own.
 */
export function registerWasmConvForward(): void {
  const replaced = replaceKernel(FUSED_CONV, fusedConv2d as unknown as tf.KernelFunc)
  if (replaced) original = replaced
}

function fusedConv2d(args: KernelArgs): TensorInfo {
  const wasm = args.backend as BackendWasm
  const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo }
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation } = args.attrs as unknown as tf.FusedConv2DAttrs
  const fallback = (): TensorInfo => {
    if (!original) throw new Error(`wasm's own ${FUSED_CONV} was never saved`)
    return original.kernelFunc(args) as TensorInfo
  }
  if (dataFormat === 'NCHW' || (activation !== undefined && activation !== 'linear') || preluActivationWeights) return fallback()
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1))) return fallback()
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, strides, dilations, pad, dimRoundingMode, false, 'channelsLast')
  const { padInfo } = info
  const plain = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1
  const pads = padInfo.top >= 0 && padInfo.left >= 0 && padInfo.bottom >= 0 && padInfo.right >= 0
  // Fewer than 8 input channels (an RGB image) or fewer than 16 output positions (2×2 images at 512
  // channels): XNNPACK is faster there (bench/conv-gradients.ts).
  const worth = info.inChannels >= 8 && info.outHeight * info.outWidth >= 16
  const simd = plain && pads && worth && info.outChannels % 8 === 0 && (!bias || bias.shape[0] === info.outChannels) ? simdKernelsFor(wasm) : undefined
  if (!simd) return fallback()
  return convolve(wasm, simd, x, filter, bias, info)
}

function convolve(wasm: BackendWasm, simd: SimdKernels, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: o, filterHeight: fh, filterWidth: fw, padInfo } = info
  // Output (y, x) reads padded rows y … y + fh − 1 and columns x … x + fw − 1.
  const hp = oh + fh - 1
  const wp = ow + fw - 1
  return withScratch(wasm, (temp) => {
    const padded = temp(wasm.makeOutput([n, hp, wp, c], 'float32'))
    const packed = temp(wasm.makeOutput([o / 8, fh * fw, c, 8], 'float32'))
    const out = wasm.makeOutput([n, oh, ow, o], 'float32')
    const offset = (t: TensorInfo): number => SimdKernels.offsetOf(wasm, t)
    // The view after every makeOutput: an allocation may grow (and so replace) wasm's memory.
    padImage(heapF32View(wasm), offset(x) / 4, offset(padded) / 4, [n, h, w, c], hp, wp, padInfo.top, padInfo.left)
    packRotatedFilter(simd, offset(filter), offset(packed), fh, fw, c, o)
    // The kernel's tap (i', j') reads (i'·wp + j') positions before `shift`; with the filter rotated,
    // tap (fh−1−i, fw−1−j) must read (i, j) after the output's own position.
    const shift = ((fh - 1) * wp + (fw - 1)) * c * 4
    simd.exports.conv_input_grad(offset(padded), offset(packed), offset(out), n, oh, ow, o, hp, wp, c, fh, fw, shift, bias ? offset(bias) : 0)
    return out
  })
}

/**
 * The filter w[i, j, c, o] (at byte offset `filter`) rotated 180° and packed as the kernel reads it
 * (into `packed`): p[o / 8, tap, c, o mod 8] with tap = (fh−1−i)·fw + (fw−1−j). Each tap's [c, o]
 * matrix goes into the panels of 8 output channels in wasm (packPanels8): the JS loop that did this a
 * value at a time was 1.2 ms of a width-¼ worker step.
 */
function packRotatedFilter(simd: SimdKernels, filter: number, packed: number, fh: number, fw: number, c: number, o: number): void {
  const taps = fh * fw
  // Tap (i, j) of w, tap = i·fw + j, is tap taps − 1 − tap of the rotated filter.
  for (let tap = 0; tap < taps; tap++) simd.packPanels8(filter + 4 * tap * c * o, o, c, o, packed + 32 * (taps - 1 - tap) * c, 32 * taps * c)
}
