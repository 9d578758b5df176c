/**
 * `npx tsx bench/conv-gradients.ts [--batch 32] [--width 0.25]`: times the wasm convolution kernels
 * on the eight convolutions of VGG11 (32×32 inputs, one data-parallel worker's shard by default):
 * the forward convolution in wasm's own Conv2D (XNNPACK) and, with a bias as a layer runs it, in the
 * workbench's kernel (wasm-conv-forward.ts; FMA build), and both gradients with the workbench's SIMD kernels (kernels.wat)
 * and with their fallbacks (convolutions on transposed or rotated operands, built from wasm's own
 * kernels), plus wasm's own Conv2DBackpropInput where it is not ~10× too slow to bother. Where the
 * runtime has relaxed SIMD, the SIMD columns come twice: the FMA build (`SIMD+FMA`, the default) and
 * the plain one (`SIMD`, as WORKBENCH_WASM_FMA=0 runs).
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { parseArgs } from 'node:util'
import { relaxedSimdSupported, setFmaKernelsEnabled, setSimdKernelsEnabled } from '../src/engine/backend/simd/simd-kernels'
import { registerWasmConvGradients } from '../src/engine/backend/wasm-conv-gradients'
import { registerWasmConvForward } from '../src/engine/backend/wasm-conv-forward'
import { scaleWidth, VGG_CFGS } from '../src/shared/vgg'

const { values } = parseArgs({ options: { batch: { type: 'string' }, width: { type: 'string' } } })
const batch = Number(values.batch ?? 32)
const width = Number(values.width ?? 0.25)

/** The convolutions of VGG11 at this width: [side, in channels, out channels]. */
function vgg11Convs(): [number, number, number][] {
  const convs: [number, number, number][] = []
  let side = 32
  let channels = 3
  for (const entry of VGG_CFGS.vgg11) {
    if (entry === 'M') {
      side /= 2
      continue
    }
    const out = scaleWidth(entry, width)
    convs.push([side, channels, out])
    channels = out
  }
  return convs
}

/** Median ms per call over 11 calls after a warm-up. */
function msPerCall(call: () => tf.Tensor): number {
  call().dispose()
  const times: number[] = []
  for (let i = 0; i < 11; i++) {
    const start = performance.now()
    call().dispose()
    times.push(performance.now() - start)
  }
  return times.sort((a, b) => a - b)[5] as number
}

await tf.setBackend('wasm')
const ownInputGrad = tf.getKernel('Conv2DBackpropInput', 'wasm')
registerWasmConvGradients()
registerWasmConvForward()
const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }
const run = (name: string, inputs: tf.NamedTensorMap, extra: object) => (): tf.Tensor =>
  tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as tf.NamedAttrMap) as tf.Tensor

interface Row {
  layer: string
  'forward XNNPACK': number
  'forward SIMD+FMA': number | ''
  'dx SIMD+FMA': number | ''
  'dx SIMD': number
  'dx fallback': number
  "dx wasm's own": number | ''
  'dW SIMD+FMA': number | ''
  'dW SIMD': number
  'dW fallback': number
}
const rows: Row[] = []
const fma = relaxedSimdSupported()
for (const [side, inC, outC] of vgg11Convs()) {
  const xShape: [number, number, number, number] = [batch, side, side, inC]
  const filterShape: [number, number, number, number] = [3, 3, inC, outC]
  const x = tf.randomNormal(xShape)
  const filter = tf.randomNormal(filterShape)
  const dy = tf.randomNormal([batch, side, side, outC])
  const inputGrad = run('Conv2DBackpropInput', { dy, filter }, { inputShape: xShape })
  const filterGrad = run('Conv2DBackpropFilter', { x, dy }, { filterShape })
  const bias = tf.randomNormal([outC])
  // A layer's forward pass (FusedConv2D with its bias): the workbench's kernel where it applies.
  const forwardOurs = fma && outC % 8 === 0 ? msPerCall(run('FusedConv2D', { x, filter, bias }, { activation: 'linear' })) : undefined
  const timed = (on: boolean, withFma = false): [number, number] => {
    setSimdKernelsEnabled(on)
    setFmaKernelsEnabled(withFma)
    return [msPerCall(inputGrad), msPerCall(filterGrad)]
  }
  const [dxFma, dwFma] = fma ? timed(true, true) : [undefined, undefined]
  const [dxSimd, dwSimd] = timed(true)
  const [dxFallback, dwFallback] = timed(false)
  setSimdKernelsEnabled(true)
  setFmaKernelsEnabled(true)
  const own = ownInputGrad && side <= 8
    ? msPerCall(() => tf.engine().makeTensorFromTensorInfo(ownInputGrad.kernelFunc({ inputs: { dy, filter }, backend: tf.backend(), attrs: { ...attrs, inputShape: xShape } }) as tf.TensorInfo))
    : undefined
  rows.push({
    layer: `${side}×${side}×${inC}→${outC}`,
    'forward XNNPACK': round(msPerCall(run('Conv2D', { x, filter }, {}))),
    'forward SIMD+FMA': forwardOurs === undefined ? '' : round(forwardOurs),
    'dx SIMD+FMA': dxFma === undefined ? '' : round(dxFma),
    'dx SIMD': round(dxSimd),
    'dx fallback': round(dxFallback),
    "dx wasm's own": own === undefined ? '' : round(own),
    'dW SIMD+FMA': dwFma === undefined ? '' : round(dwFma),
    'dW SIMD': round(dwSimd),
    'dW fallback': round(dwFallback)
  })
  tf.dispose([x, filter, dy, bias])
}
// dx totals leave out the first layer, whose input gradient training never computes (input-conv.ts).
const total = (key: Exclude<keyof Row, 'layer' | "dx wasm's own">): number =>
  round(rows.reduce((sum, r, i) => sum + (i === 0 && key.startsWith('dx') ? 0 : Number(r[key])), 0))
rows.push({
  layer: 'total',
  'forward XNNPACK': total('forward XNNPACK'),
  'forward SIMD+FMA': fma ? total('forward SIMD+FMA') : '',
  'dx SIMD+FMA': fma ? total('dx SIMD+FMA') : '',
  'dx SIMD': total('dx SIMD'),
  'dx fallback': total('dx fallback'),
  "dx wasm's own": '',
  'dW SIMD+FMA': fma ? total('dW SIMD+FMA') : '',
  'dW SIMD': total('dW SIMD'),
  'dW fallback': total('dW fallback')
})
console.log(`VGG11 width ${width}, batch ${batch}, wasm, median ms per call (dx totals without the first layer: training never computes it)`)
console.table(rows)

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
