import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { SimdKernels, simdKernelsFor } from './simd/simd-kernels'
import { BACKEND, heapF32, heapF32View, padImage, run, withScratch } from './wasm-kernel-utils'
import { transposeInWasm } from './wasm-transpose'

/**
 * Convolution gradients for the wasm backend, built from wasm's own kernels (see DESIGN.md, "The tfjs
 * backend"): wasm has no Conv2DBackpropFilter at all, and its Conv2DBackpropInput is ~10× slower than
 * a plain (XNNPACK) convolution computing the same thing.
 *
 * Both kernels also honour a `dilations` attribute. tfjs's own Conv2D gradient never passes one (it
 * rejects dilated convolutions), but code calling the kernels directly may.
 */

const FILTER_GRAD = 'Conv2DBackpropFilter'
const INPUT_GRAD = 'Conv2DBackpropInput'

type Attrs = tf.NamedAttrMap
type TensorInfo = tf.TensorInfo
type Shape4 = [number, number, number, number]
type Dilations = [number, number] | number

/** Padding per side; negative values crop instead. */
interface SignedPads {
  top: number
  bottom: number
  left: number
  right: number
}

/** wasm's own Conv2DBackpropInput, kept for the cases the fast path does not cover. */
let originalInputGrad: tf.KernelConfig | undefined

/**
 * Registers, for the wasm backend, a Conv2DBackpropFilter (which wasm lacks) and a faster
 * Conv2DBackpropInput for stride 1 (wasm's own still serves stride > 1 and NCHW). Idempotent.
 * Call after `await tf.setBackend('wasm')`; earlier works too, as long as the wasm backend package
 * is imported, since the replaced kernel's setup is passed on.
 */
export function registerWasmConvGradients(): void {
  if (tf.getKernel(INPUT_GRAD, BACKEND)?.kernelFunc !== conv2dBackpropInput) {
    const original = tf.getKernel(INPUT_GRAD, BACKEND)
    if (original == null) throw new Error(`No wasm ${INPUT_GRAD} kernel: import '@tensorflow/tfjs-backend-wasm' first`)
    originalInputGrad = original
    tf.unregisterKernel(INPUT_GRAD, BACKEND)
    // The original binds its wasm function in setupFunc, which the backend runs for the kernels
    // registered when it initialises; ours stands in for it there.
    tf.registerKernel({ kernelName: INPUT_GRAD, backendName: BACKEND, kernelFunc: conv2dBackpropInput, setupFunc: original.setupFunc })
  }
  if (tf.getKernel(FILTER_GRAD, BACKEND)?.kernelFunc !== conv2dBackpropFilter) {
    // A future wasm release may bring its own; ours is tested, so it replaces it (without a warning).
    if (tf.getKernel(FILTER_GRAD, BACKEND) != null) tf.unregisterKernel(FILTER_GRAD, BACKEND)
    tf.registerKernel({ kernelName: FILTER_GRAD, backendName: BACKEND, kernelFunc: conv2dBackpropFilter })
  }
}

/**
 * dW[i, j, c, o] = Σ x[n, y·s + i·d − top, x·s + j·d − left, c] · dy[n, y, x, o], which is a
 * convolution of x (batch and channel axes swapped, [C, H, W, N]) with dy as the filter
 * ([outH, outW, N, outC]): forward stride s becomes its dilation, forward dilation d its stride.
 */
function conv2dBackpropFilter({ inputs, backend, attrs = {} }: KernelArgs): TensorInfo {
  const wasm = backend as BackendWasm
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs
  if (dataFormat === 'NCHW') throw new Error(`wasm ${FILTER_GRAD} supports only dataFormat NHWC, got NCHW`)
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filterShape, strides, dilationsOf(attrs), pad, dimRoundingMode, false, 'channelsLast')
  const [, outHeight, outWidth] = dy.shape
  // Padded x rows (columns) the forward pass read start at −top and span the dilated filter plus the
  // strided outputs. Cropping/padding x to exactly that makes the gradient conv's output fh × fw.
  const extentH = (info.filterHeight - 1) * info.dilationHeight + (outHeight - 1) * info.strideHeight + 1
  const extentW = (info.filterWidth - 1) * info.dilationWidth + (outWidth - 1) * info.strideWidth + 1
  const { top, left } = info.padInfo
  // Huge pads with large strides can make the forward pass read only padding: the gradient is zero.
  if (extentH <= top || extentW <= left) return zeros(wasm, filterShape)
  const unit = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1
  const simd = unit && info.outChannels % 8 === 0 && x.dtype === 'float32' && dy.dtype === 'float32' ? simdKernelsFor(wasm) : undefined
  if (simd) return filterGradientSimd(wasm, simd, x, dy, filterShape, top, left)
  if (info.inChannels <= FEW_CHANNELS && info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1) {
    return filterGradientAsMatMul(wasm, x, dy, filterShape, top, left)
  }
  const pads = { top, bottom: extentH - top - info.inHeight, left, right: extentW - left - info.inWidth }
  return withScratch(wasm, (temp) => {
    const xT = temp(run(wasm, 'Transpose', { x }, { perm: [3, 1, 2, 0] }))
    const dyT = temp(run(wasm, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] }))
    const strides2 = [info.dilationHeight, info.dilationWidth]
    const dilations2 = [info.strideHeight, info.strideWidth]
    const grad = temp(convWithSignedPads(wasm, xT, dyT, strides2, dilations2, pads, temp)) // [C, fh, fw, outC]
    return run(wasm, 'Transpose', { x: grad }, { perm: [1, 2, 0, 3] })
  })
}

/** Bytes of x and dy rows that conv_filter_grad sums over at a time: ~the L1 data cache (bench below). */
const FILTER_GRAD_CHUNK_BYTES = 32 * 1024

/**
 * The filter gradient of a stride-1 convolution in one SIMD kernel (kernels.wat, conv_filter_grad),
 * which sums 4×8 blocks of dW in registers straight from x and dy: no transposes, no packed copy.
 * Against the convolution below, at width ¼ and batch 32 (bench/conv-gradients.ts, all eight
 * layers): 30.6 → 12.9 ms. The kernel wants whole groups of 4 input channels; an RGB image is copied with a zero
 * fourth channel first, and the extra filter rows dropped afterwards.
 */
function filterGradientSimd(wasm: BackendWasm, simd: SimdKernels, x: TensorInfo, dy: TensorInfo, filterShape: Shape4, top: number, left: number): TensorInfo {
  const [n, inH, inW, channels] = x.shape as Shape4
  const [, outH, outW, outC] = dy.shape as Shape4
  const [fh, fw] = filterShape
  const padded = Math.ceil(channels / 4) * 4
  const chunkRows = Math.max(1, Math.floor(FILTER_GRAD_CHUNK_BYTES / (outW * (padded + outC) * 4)))
  return withScratch(wasm, (temp) => {
    let image = x
    if (padded !== channels) {
      image = temp(wasm.makeOutput([n, inH, inW, padded], 'float32'))
      simd.exports.widen_channels(SimdKernels.offsetOf(wasm, x), SimdKernels.offsetOf(wasm, image), n * inH * inW, channels, padded)
    }
    const dw = wasm.makeOutput(padded === channels ? filterShape : [fh, fw, padded, outC], 'float32')
    const offset = (t: TensorInfo): number => SimdKernels.offsetOf(wasm, t)
    simd.exports.conv_filter_grad(offset(image), offset(dy), offset(dw), n, inH, inW, padded, outH, outW, outC, fh, fw, top, left, chunkRows)
    if (padded === channels) return dw
    temp(dw)
    const out = wasm.makeOutput(filterShape, 'float32')
    const src = heapF32(wasm, dw)
    const dst = heapF32(wasm, out)
    for (let tap = 0; tap < fh * fw; tap++) dst.set(src.subarray(tap * padded * outC, (tap * padded + channels) * outC), tap * channels * outC)
    return out
  })
}

/** Input channels up to which the filter gradient is a matrix product (RGB images: the first layer). */
const FEW_CHANNELS = 4

/**
 * At stride 1 and no dilation, dW as one matrix product: with P the image patches (im2col for the
 * M = N·outH·outW output positions, built transposed in JS) and dy as [M, outC], dW = Pᵀ·dy, already
 * in [fh, fw, C, outC] order. For an RGB input this takes 3.9 ms where the convolution below took
 * 5.5 (32×32×3 → 16, batch 32); with more channels, building Pᵀ costs more than it saves.
 */
function filterGradientAsMatMul(wasm: BackendWasm, x: TensorInfo, dy: TensorInfo, filterShape: Shape4, top: number, left: number): TensorInfo {
  const [n, inH, inW, channels] = x.shape as Shape4
  const [, outH, outW, outC] = dy.shape as Shape4
  const [fh, fw] = filterShape
  const taps = fh * fw * channels
  const positions = n * outH * outW
  return withScratch(wasm, (temp) => {
    // Pᵀ directly, [fh·fw·C, M]: the product then needs no transpose of a big operand.
    const patchesT = temp(wasm.makeOutput([1, taps, positions], 'float32'))
    // Views after makeOutput: an allocation may grow (and so replace) wasm's memory.
    const src = heapF32(wasm, x)
    const dst = heapF32(wasm, patchesT)
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        // Output columns whose input column is inside the image; the rest stay zero (padding).
        const x0 = Math.max(0, left - j)
        const x1 = Math.min(outW, inW + left - j)
        for (let c = 0; c < channels; c++) {
          let o = ((i * fw + j) * channels + c) * positions
          for (let b = 0; b < n; b++) {
            for (let y = 0; y < outH; y++, o += outW) {
              const row = y + i - top
              if (row < 0 || row >= inH) {
                dst.fill(0, o, o + outW)
                continue
              }
              if (x0 > 0) dst.fill(0, o, o + x0)
              if (x1 < outW) dst.fill(0, o + Math.max(x0, x1), o + outW)
              let from = ((b * inH + row) * inW + (x0 + j - left)) * channels + c
              for (let xo = x0; xo < x1; xo++, from += channels) dst[o + xo] = src[from] as number
            }
          }
        }
      }
    }
    const dyMatrix = { dataId: dy.dataId, shape: [1, positions, outC], dtype: dy.dtype }
    const product = temp(run(wasm, 'BatchMatMul', { a: patchesT, b: dyMatrix }, { transposeA: false, transposeB: false }))
    return run(wasm, 'Reshape', { x: product }, { shape: filterShape })
  })
}

/**
 * At stride 1, dx is the convolution of dy with the filter rotated 180° and its in/out channels
 * swapped, padded by (effective filter − 1 − forward pad). Other cases go to wasm's own kernel.
 */
function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs = {} } = args
  const wasm = backend as BackendWasm
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo }
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs
  const dilations = dilationsOf(attrs)
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as Shape4, strides, dilations, pad, dimRoundingMode, false,
    tf.backend_util.convertConv2DDataFormat(dataFormat))
  if (dataFormat === 'NCHW' || info.strideHeight !== 1 || info.strideWidth !== 1) {
    // wasm's kernel ignores dilations; tf.conv2d never combines them with strides > 1 anyway.
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
      throw new Error(`wasm ${INPUT_GRAD} supports dilations only with stride 1 and NHWC`)
    }
    if (originalInputGrad == null) throw new Error(`wasm's own ${INPUT_GRAD} was never saved`)
    return originalInputGrad.kernelFunc(args) as TensorInfo
  }
  const undilated = info.dilationHeight === 1 && info.dilationWidth === 1
  const simd = undilated && info.inChannels % 8 === 0 && dy.dtype === 'float32' && filter.dtype === 'float32' ? simdKernelsFor(wasm) : undefined
  if (simd) return inputGradientSimd(wasm, simd, dy, filter, info)
  const [, outHeight, outWidth] = dy.shape
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left
  // Bottom/right make the output exactly inHeight × inWidth; large forward pads turn them negative (crop).
  const pads = {
    top,
    bottom: info.inHeight + info.effectiveFilterHeight - 1 - outHeight - top,
    left,
    right: info.inWidth + info.effectiveFilterWidth - 1 - outWidth - left
  }
  return withScratch(wasm, (temp) => {
    const swapped = temp(rotateAndSwapChannels(wasm, filter))
    return convWithSignedPads(wasm, dy, swapped, [1, 1], [info.dilationHeight, info.dilationWidth], pads, temp)
  })
}

/**
 * The input gradient of a stride-1 convolution in one SIMD kernel (kernels.wat, conv_input_grad),
 * which sums 4 positions × 8 channels of dx in registers over every tap and output channel. It reads
 * dy through a zero-padded copy, so that no read needs a bounds check, and the filter packed so that
 * each group of 8 input channels reads its values end to end (packFilterForInputGradient). Against the
 * convolution with the rotated filter below, at width ¼ and batch 32 (bench/conv-gradients.ts, the
 * seven layers training needs it for): 20.3 → 14.5 ms; packed rather than with the channel axes
 * swapped (wt[i, j, o, c]), at width 1: 327 → 234 ms, below the forward convolution's 289.
 */
function inputGradientSimd(wasm: BackendWasm, simd: SimdKernels, dy: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: o, filterHeight: fh, filterWidth: fw } = info
  const { top, left } = info.padInfo
  // dx[y, x] reads dy rows y + top − i for i < fh: from top − fh + 1 to h − 1 + top.
  const padTop = Math.max(0, fh - 1 - top)
  const padLeft = Math.max(0, fw - 1 - left)
  const hp = padTop + Math.max(oh, h + top)
  const wp = padLeft + Math.max(ow, w + left)
  return withScratch(wasm, (temp) => {
    const padded = temp(wasm.makeOutput([n, hp, wp, o], 'float32'))
    const packed = temp(wasm.makeOutput([c / 8, fh * fw, o, 8], 'float32'))
    const dx = wasm.makeOutput([n, h, w, c], 'float32')
    const offset = (t: TensorInfo): number => SimdKernels.offsetOf(wasm, t)
    // The view after every makeOutput: an allocation may grow (and so replace) wasm's memory.
    padImage(heapF32View(wasm), offset(dy) / 4, offset(padded) / 4, [n, oh, ow, o], hp, wp, padTop, padLeft)
    packFilterForInputGradient(wasm, filter, packed, fh * fw, c, o)
    const shift = ((top + padTop) * wp + left + padLeft) * o * 4
    simd.exports.conv_input_grad(offset(padded), offset(packed), offset(dx), n, h, w, c, hp, wp, o, fh, fw, shift, 0)
    return dx
  })
}

/**
 * The filter [taps, c, o] as conv_input_grad reads it: wp[c / 8, tap, o, c mod 8]. For each group and
 * tap that is the filter's 8 rows of that group, [8, o], transposed to [o, 8] (transposeInWasm: the
 * SIMD kernel where o is a multiple of 4; a JS loop doing this was 1.7 ms of a width-¼ worker step).
 */
function packFilterForInputGradient(wasm: BackendWasm, filter: TensorInfo, packed: TensorInfo, taps: number, c: number, o: number): void {
  const from = SimdKernels.offsetOf(wasm, filter)
  let to = SimdKernels.offsetOf(wasm, packed)
  for (let cb = 0; cb < c; cb += 8) {
    for (let tap = 0; tap < taps; tap++, to += 32 * o) transposeInWasm(wasm, from + 4 * (tap * c + cb) * o, to, 8, o)
  }
}

/**
 * The filter rotated 180° with its in/out channels swapped, out[i, j, o, c] = w[fh−1−i, fw−1−j, c, o],
 * one tap's [c, o] matrix transposed at a time: wasm's Reverse and Transpose took 3.5 ms for a
 * 3×3×128×128 filter (bench, width ¼), three times the convolution that uses it.
 */
function rotateAndSwapChannels(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [fh, fw, inC, outC] = filter.shape as Shape4
  const out = backend.makeOutput([fh, fw, outC, inC], 'float32')
  const taps = (tap: number, t: TensorInfo): number => SimdKernels.offsetOf(backend, t) + 4 * tap * inC * outC
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) transposeInWasm(backend, taps((fh - 1 - i) * fw + (fw - 1 - j), filter), taps(i * fw + j, out), inC, outC)
  }
  return out
}

type KernelArgs = Parameters<tf.KernelFunc>[0]

/** The non-standard `dilations` attribute (see the file comment); 1 when absent. */
function dilationsOf(attrs: Attrs): Dilations {
  return (attrs.dilations as Dilations | undefined) ?? 1
}

/**
 * wasm Conv2D of an NHWC image with explicit pads; negative pads crop the image first, since
 * explicit padding cannot be negative.
 */
function convWithSignedPads(
  backend: BackendWasm, x: TensorInfo, filter: TensorInfo, strides: number[], dilations: number[],
  pads: SignedPads, temp: (t: TensorInfo) => TensorInfo
): TensorInfo {
  const crop = (p: number): number => Math.max(0, -p)
  const [batch, height, width, channels] = x.shape
  let image = x
  if (pads.top < 0 || pads.bottom < 0 || pads.left < 0 || pads.right < 0) {
    const size = [batch, height - crop(pads.top) - crop(pads.bottom), width - crop(pads.left) - crop(pads.right), channels]
    image = temp(run(backend, 'Slice', { x }, { begin: [0, crop(pads.top), crop(pads.left), 0], size }))
  }
  const pad = [[0, 0], [Math.max(0, pads.top), Math.max(0, pads.bottom)], [Math.max(0, pads.left), Math.max(0, pads.right)], [0, 0]]
  return run(backend, 'Conv2D', { x: image, filter }, { strides, dilations, pad, dataFormat: 'NHWC' })
}

/** A float32 tensor of zeros. */
function zeros(backend: BackendWasm, shape: number[]): TensorInfo {
  return run(backend, 'Fill', {}, { shape, value: 0, dtype: 'float32' })
}

