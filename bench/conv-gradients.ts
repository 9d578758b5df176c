/**
 * Times the wasm convolution gradients at VGG-like sizes: wasm's own Conv2DBackpropInput against the
 * workbench's stride-1 replacement, the workbench's Conv2DBackpropFilter, and the forward Conv2D
 * for scale. Run: npx tsx bench/conv-gradients.ts
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { registerWasmConvGradients } from '../src/engine/backend/wasm-conv-gradients'

interface Size {
  name: string
  x: [number, number, number, number]
  filter: [number, number, number, number]
}

const SIZES: Size[] = [
  { name: 'batch 64, 32×32×16→16', x: [64, 32, 32, 16], filter: [3, 3, 16, 16] },
  { name: 'batch 64, 8×8×64→64', x: [64, 8, 8, 64], filter: [3, 3, 64, 64] }
]

/** Mean ms per call after one warm-up call; `call` returns what it allocated, to be freed. */
function msPerCall(calls: number, call: () => () => void): number {
  call()()
  const start = performance.now()
  for (let i = 0; i < calls; i++) call()()
  return (performance.now() - start) / calls
}

await tf.setBackend('wasm')
const backend = tf.backend() as BackendWasm
// Kept before registering: registration unregisters wasm's own kernel.
const originalInputGrad = tf.getKernel('Conv2DBackpropInput', 'wasm')
if (originalInputGrad == null) throw new Error('wasm has no Conv2DBackpropInput to compare with')
registerWasmConvGradients()

for (const size of SIZES) {
  const x = tf.randomNormal(size.x)
  const filter = tf.randomNormal(size.filter)
  const dy = tf.randomNormal([size.x[0], size.x[1], size.x[2], size.filter[3]])
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' }
  const engineCall = (name: string, inputs: tf.NamedTensorMap, extra: object) => () => {
    const out = tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as tf.NamedAttrMap) as tf.Tensor
    return () => out.dispose()
  }

  const forward = msPerCall(10, engineCall('Conv2D', { x, filter }, { dilations: 1 }))
  const fastInput = msPerCall(10, engineCall('Conv2DBackpropInput', { dy, filter }, { inputShape: size.x }))
  const originalInput = msPerCall(3, () => {
    const out = originalInputGrad.kernelFunc({ inputs: { dy, filter }, backend, attrs: { ...attrs, inputShape: size.x } }) as tf.TensorInfo
    return () => backend.disposeData(out.dataId)
  })
  const filterGrad = msPerCall(10, engineCall('Conv2DBackpropFilter', { x, dy }, { filterShape: size.filter }))

  console.log(size.name)
  console.log(`  Conv2D forward (for scale)          ${forward.toFixed(1)} ms`)
  console.log(`  Conv2DBackpropInput, wasm's own     ${originalInput.toFixed(1)} ms`)
  console.log(`  Conv2DBackpropInput, fast path      ${fastInput.toFixed(1)} ms  (${(originalInput / fastInput).toFixed(1)}× faster)`)
  console.log(`  Conv2DBackpropFilter                ${filterGrad.toFixed(1)} ms`)
  tf.dispose([x, filter, dy])
}
