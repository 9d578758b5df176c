import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { createRandom } from '../../../src/engine/random'
import { describeWebGpu, onBackend, relativeError, watchGpuSyncReads } from './webgpu-support'

/**
 * The kernels a VGG-BN training step runs, forward and backward, on tfjs's WebGPU backend against
 * the pure-JS cpu backend, on small shapes. Each output is compared relative to its own largest
 * magnitude. Measured on lavapipe and SwiftShader: at most 1.7e-6 (the first layer's filter
 * gradient, a sum over 4·32·32 products); float32 summation in another order gives errors of that
 * size. The bound, 1e-5, leaves 6× headroom, while a wrong index, stride or padding in a shader
 * errs by 1e-1 or more.
 */
const TOLERANCE = 1e-5

/** Deterministic inputs in [-scale, scale). */
function input(shape: number[], seed: number, scale = 1): tf.Tensor {
  const random = createRandom(seed)
  const size = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(Float32Array.from({ length: size }, () => (random.next() * 2 - 1) * scale), shape)
}

const measured: string[] = []
let watch: ReturnType<typeof watchGpuSyncReads> | undefined

/** Computes `fn` on cpu, then on webgpu, and checks every output; returns the relative errors. */
async function expectParity(label: string, names: string[], fn: () => tf.Tensor[]): Promise<void> {
  const cpu = await onBackend('cpu', fn)
  const gpu = await onBackend('webgpu', fn)
  expect(gpu).toHaveLength(names.length)
  const errors = cpu.map((ref, i) => relativeError(ref, gpu[i]))
  measured.push(`${label.padEnd(40)} ${names.map((n, i) => `${n} ${errors[i].toExponential(1)}`).join('  ')}`)
  errors.forEach((e, i) => expect(e, `${label}: ${names[i]}`).toBeLessThan(TOLERANCE))
}

describeWebGpu('webgpu kernels match the cpu backend (forward and gradients)', () => {
  beforeAll(async () => {
    const info = await selectBackend('webgpu')
    expect(info.backend).toBe('webgpu')
    expect(tf.getBackend()).toBe('webgpu')
    // tfjs runs some kernels on small CPU-resident tensors (< 1000 elements) on the CPU instead of in a
    // shader; here every kernel should run as a shader.
    tf.env().set('WEBGPU_CPU_FORWARD', false)
    watch = watchGpuSyncReads()
  })

  afterAll(() => {
    watch?.stop()
    console.log(`max |webgpu − cpu| / max |cpu| per output:\n${measured.join('\n')}`)
  })

  const conv = (stride: 1 | 2) => (): tf.Tensor[] => {
    const x = input([4, 16, 16, 8], 1)
    const w = input([3, 3, 8, 16], 2, 0.3)
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, 'same')
    const dy = input(y.shape, 3)
    const [dx, dw] = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same'), dy)))([x, w])
    return [y, dx, dw]
  }

  it('conv2d 3×3 stride 1 same: output, input and filter gradients', () => expectParity('conv2d s1 same', ['y', 'dx', 'dw'], conv(1)))

  it('conv2d 3×3 stride 2 same: output, input and filter gradients', () => expectParity('conv2d s2 same', ['y', 'dx', 'dw'], conv(2)))

  it("fused conv2d + bias + relu (tfjs-layers' Conv2D): output and all three gradients", () =>
    expectParity('fused conv2d+bias+relu', ['y', 'dx', 'dw', 'db'], () => {
      const x = input([4, 16, 16, 8], 4)
      const w = input([3, 3, 8, 16], 5, 0.3)
      const b = input([16], 6, 0.5)
      const f = (a: tf.Tensor, k: tf.Tensor, bias: tf.Tensor): tf.Tensor =>
        tf.fused.conv2d({ x: a as tf.Tensor4D, filter: k as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu' })
      const dy = input([4, 16, 16, 16], 7)
      return [f(x, w, b), ...tf.grads((a, k, bias) => tf.sum(tf.mul(f(a, k, bias), dy)))([x, w, b])]
    }))

  it('first-layer conv 3 → 16 channels on 32×32: output and filter gradient', () =>
    expectParity('conv2d 3→16 32×32', ['y', 'dw'], () => {
      const x = input([4, 32, 32, 3], 8)
      const w = input([3, 3, 3, 16], 9, 0.3)
      const dy = input([4, 32, 32, 16], 10)
      const [dw] = tf.grads((k) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'same'), dy)))([w])
      return [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), dw]
    }))

  it('batch norm in training mode (batch moments): output and gradients of x, γ, β', () =>
    expectParity('batchNorm train (moments)', ['y', 'dx', 'dγ', 'dβ'], () => {
      const x = input([4, 8, 8, 16], 11, 2)
      const gamma = input([16], 12)
      const beta = input([16], 13)
      const dy = input([4, 8, 8, 16], 14)
      // As tfjs-layers' BatchNormalization normalizes a training batch (NHWC, per channel).
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
        const { mean, variance } = tf.moments(a, [0, 1, 2])
        return tf.batchNorm(a, mean, variance, b, g, 1e-5)
      }
      return [f(x, gamma, beta), ...tf.grads((a, g, b) => tf.sum(tf.mul(f(a, g, b), dy)))([x, gamma, beta])]
    }))

  it('batch norm with stored statistics (inference, frozen layers): output and input gradient', () =>
    expectParity('batchNorm inference stats', ['y', 'dx'], () => {
      const x = input([4, 8, 8, 16], 15)
      const mean = input([16], 16, 0.1)
      const variance = tf.add(input([16], 17, 0.5), 1)
      const gamma = input([16], 18)
      const beta = input([16], 19)
      const dy = input([4, 8, 8, 16], 20)
      const f = (a: tf.Tensor): tf.Tensor => tf.batchNorm(a, mean, variance, beta, gamma, 1e-5)
      const [dx] = tf.grads((a) => tf.sum(tf.mul(f(a), dy)))([x])
      return [f(x), dx]
    }))

  it('max pool 2×2 stride 2: output and gradient', () =>
    expectParity('maxPool 2×2/2', ['y', 'dx'], () => {
      const x = input([4, 16, 16, 16], 21)
      const dy = input([4, 8, 8, 16], 22)
      const [dx] = tf.grads((a) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), dy)))([x])
      return [tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), dx]
    }))

  it("dense (tfjs-layers' fused matMul + bias + relu): output and gradients of x, W, b", () =>
    expectParity('dense matMul+bias+relu', ['y', 'dx', 'dW', 'db'], () => {
      const x = input([32, 256], 23)
      const w = input([256, 64], 24, 0.1)
      const b = input([64], 25)
      const dy = input([32, 64], 26)
      const f = (a: tf.Tensor, k: tf.Tensor, bias: tf.Tensor): tf.Tensor => tf.fused.matMul({ a: a as tf.Tensor2D, b: k as tf.Tensor2D, bias, activation: 'relu' })
      return [f(x, w, b), ...tf.grads((a, k, bias) => tf.sum(tf.mul(f(a, k, bias), dy)))([x, w, b])]
    }))

  it('softmax cross-entropy on one-hot labels (the loss): value and logits gradient', () =>
    expectParity('softmaxCrossEntropy(oneHot)', ['loss', 'dlogits'], () => {
      const logits = input([32, 10], 27, 3)
      const labels = tf.oneHot(tf.tensor1d(Int32Array.from({ length: 32 }, (_, i) => (i * 7) % 10), 'int32'), 10)
      const f = (l: tf.Tensor): tf.Tensor => tf.losses.softmaxCrossEntropy(labels, l)
      return [f(logits), tf.grad(f)(logits)]
    }))

  it('read nothing synchronously from the GPU', () => {
    expect(watch?.reads).toEqual([])
  })
})
