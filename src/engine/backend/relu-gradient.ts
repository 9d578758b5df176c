import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { SimdKernels, simdKernelsFor } from './simd/simd-kernels'
import { BACKEND, newWasmTensor } from './wasm-kernel-utils'

/**
 * Replaces tfjs-core's ReLU gradient, mul(dy, cast(step(x))): three engine ops and three elementwise
 * passes for each of VGG11-BN's ten ReLUs, every step. On wasm with the workbench's kernels it is one
 * pass (kernels.wat, relu_grad) with the same bits; elsewhere, and inside a gradient that is itself
 * being differentiated (where the ops must be recorded), tfjs's own expression. Gradients are global
 * in tfjs, so this is registered once for every backend.
 */
export function registerReluGradient(): void {
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor]
      return { x: () => reluGradient(dy as tf.Tensor, x) }
    }
  })
}

function reluGradient(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const recorded = (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0
  const wasm = !recorded && tf.getBackend() === BACKEND && x.dtype === 'float32' && dy.dtype === 'float32' ? (tf.backend() as BackendWasm) : undefined
  const simd = wasm ? simdKernelsFor(wasm) : undefined
  if (!wasm || !simd) return tf.mul(dy, tf.cast(tf.step(x), 'float32'))
  const dx = newWasmTensor(wasm, x.shape)
  const offset = (t: tf.Tensor): number => SimdKernels.offsetOf(wasm, t)
  simd.exports.relu_grad(offset(x), offset(dy), offset(dx), x.size)
  return dx
}
