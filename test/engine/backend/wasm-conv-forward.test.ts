/**
 * The forward convolution (FusedConv2D) in the workbench's SIMD kernel (wasm-conv-forward.ts)
 * against the cpu backend's, for the shapes it takes (stride 1, a multiple of 8 output channels,
 * with and without bias, any padding) in both kernel builds, and the ones it hands to wasm's own
 * (strides, dilations, activations, other channel counts, RGB input, tiny images), which must come
 * out right too.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { setFmaKernelsEnabled, SimdKernels, simdKernelsFor } from '../../../src/engine/backend/simd/simd-kernels'
import { createRandom } from '../../../src/engine/random'

type Shape4 = [number, number, number, number]

interface Case {
  name: string
  x: Shape4
  filter: Shape4
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding
  strides?: number
  dilations?: number
  bias?: boolean
  activation?: 'linear' | 'relu'
}

const OURS: Case[] = [
  { name: 'VGG 3×3 same, 16→32, bias', x: [4, 8, 8, 16], filter: [3, 3, 16, 32], pad: 'same', bias: true },
  { name: 'valid, non-square filter and image, 9 input channels', x: [2, 7, 10, 9], filter: [2, 3, 9, 16], pad: 'valid', bias: true },
  { name: 'explicit uneven pads, no bias', x: [2, 6, 7, 8], filter: [3, 3, 8, 8], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
  { name: 'pad wider than the filter', x: [2, 5, 5, 13], filter: [1, 1, 13, 8], pad: 2 },
  { name: '25 positions (a short last group of 4), batch 1', x: [1, 5, 5, 24], filter: [3, 3, 24, 8], pad: 'same', bias: true },
  { name: '4×4 images, 64 → 16', x: [3, 4, 4, 64], filter: [3, 3, 64, 16], pad: 'same', bias: true },
  { name: '5×5 filter', x: [2, 9, 9, 8], filter: [5, 5, 8, 8], pad: 'same', bias: true },
  // The filter packed four groups of 8 output channels at a time, then one group alone.
  { name: '40 output channels', x: [2, 6, 6, 8], filter: [3, 3, 8, 40], pad: 'same', bias: true }
]

const WASMS_OWN: Case[] = [
  { name: 'stride 2', x: [2, 8, 8, 8], filter: [3, 3, 8, 8], pad: 'same', strides: 2, bias: true },
  { name: 'dilation 2', x: [2, 9, 9, 8], filter: [3, 3, 8, 8], pad: 'same', dilations: 2 },
  { name: 'relu fused', x: [2, 8, 8, 8], filter: [3, 3, 8, 8], pad: 'same', bias: true, activation: 'relu' },
  { name: '10 output channels', x: [2, 8, 8, 8], filter: [3, 3, 8, 10], pad: 'same', bias: true },
  { name: 'RGB input', x: [2, 9, 7, 3], filter: [3, 3, 3, 8], pad: 'same', bias: true },
  { name: '2×2 images', x: [3, 2, 2, 64], filter: [3, 3, 64, 16], pad: 'same', bias: true }
]

function values(n: number, seed: number): Float32Array {
  const random = createRandom(seed)
  return Float32Array.from({ length: n }, () => random.next() * 2 - 1)
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** The fused convolution of the case on the current backend, read back. */
function convolve(c: Case): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(size(c.x), 1), c.x)
    const filter = tf.tensor4d(values(size(c.filter), 2), c.filter)
    const bias = c.bias ? tf.tensor1d(values(c.filter[3], 3)) : undefined
    const y = tf.fused.conv2d({ x, filter, bias, strides: c.strides ?? 1, pad: c.pad, dilations: c.dilations ?? 1, activation: c.activation ?? 'linear' })
    return y.dataSync() as Float32Array
  })
}

async function expectMatchesCpu(c: Case): Promise<void> {
  await tf.setBackend('cpu')
  const expected = convolve(c)
  await tf.setBackend('wasm')
  const actual = convolve(c)
  expect(actual.length, c.name).toBe(expected.length)
  let worst = 0
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)))
  expect(worst, c.name).toBeLessThan(1e-4)
}

/** Counts calls of the SIMD kernel while `body` runs. */
async function kernelCalls(body: () => Promise<void>): Promise<number> {
  const simd = simdKernelsFor(tf.backend() as BackendWasm)
  if (!simd) throw new Error('the SIMD kernels do not run here')
  // The instance's exports are frozen: the kernels object gets a counting copy for the while.
  const holder = simd as unknown as { exports: SimdKernels['exports'] }
  const exports = holder.exports
  let calls = 0
  holder.exports = {
    ...exports,
    conv_input_grad: (...args: Parameters<SimdKernels['exports']['conv_input_grad']>) => {
      calls++
      exports.conv_input_grad(...args)
    }
  }
  try {
    await body()
  } finally {
    holder.exports = exports
  }
  return calls
}

beforeAll(async () => {
  await selectBackend('wasm')
})

afterAll(() => setFmaKernelsEnabled(true))

describe('the forward convolution on wasm', () => {
  it('computes what the cpu backend computes, in the SIMD kernel (FMA build)', async () => {
    const calls = await kernelCalls(async () => {
      for (const c of OURS) await expectMatchesCpu(c)
    })
    expect(calls).toBe(OURS.length)
  })

  it('computes the same in the plain SIMD build', async () => {
    setFmaKernelsEnabled(false)
    try {
      const calls = await kernelCalls(async () => {
        for (const c of OURS) await expectMatchesCpu(c)
      })
      expect(calls).toBe(OURS.length)
    } finally {
      setFmaKernelsEnabled(true)
    }
  })

  it("leaves strides, dilations, activations and other channel counts to wasm's own, which gets them right", async () => {
    const calls = await kernelCalls(async () => {
      for (const c of WASMS_OWN) await expectMatchesCpu(c)
    })
    expect(calls).toBe(0)
  })
})
