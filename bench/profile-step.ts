/**
 * `npx tsx bench/profile-step.ts [--width 0.25] [--batch-size 64] [--steps 5] [--rows 25] [--worker] [--json]`:
 * where the time of a VGG11-BN training step goes, by kernel (tf.profile), summed over kernel names.
 * `--worker` profiles what one data-parallel worker computes on its shard (batch-size images): the
 * forward and backward pass with synced batch norm (here a one-worker exchange), without the update.
 * Profiles several steps and reports each kernel's median per-step time, so that a step in which the
 * process was descheduled (the development machine is shared and busy) does not decide the table.
 * Nested entries (`…__op`, e.g. fusedConv2d__op around FusedConv2D) are listed but not counted in
 * the total. For issue 4: profile before optimizing. On wasm it names the set of the workbench's kernels
 * that ran ("simd+fma", "simd", "off": compare with WORKBENCH_WASM_FMA=0 or WORKBENCH_WASM_SIMD=0).
 */
import * as tf from '@tensorflow/tfjs'
import { parseArgs } from 'node:util'
import { selectBackend } from '../src/engine/backend/select-backend'
import { buildVgg } from '../src/engine/models/build-vgg'
import { createSingleThreadStepper } from '../src/engine/train/single-thread-stepper'
import { lossAndGradients } from '../src/engine/train/train-step'

const { values } = parseArgs({
  options: { width: { type: 'string' }, 'batch-size': { type: 'string' }, steps: { type: 'string' }, rows: { type: 'string' }, json: { type: 'boolean' }, worker: { type: 'boolean' } }
})
const width = Number(values.width ?? 0.25)
const batchSize = Number(values['batch-size'] ?? 64)
const steps = Number(values.steps ?? 5)
const rows = Number(values.rows ?? 25)
const info = await selectBackend()
const kernelSet = info.wasmKernels
const model = buildVgg({ arch: 'vgg11_bn', width, numClasses: 10, seed: 1 })
const optimizer = tf.train.momentum(0.01, 0.9)
const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
const batch = {
  x: Float32Array.from({ length: batchSize * 32 * 32 * 3 }, () => Math.random() * 2 - 1),
  labels: Int32Array.from({ length: batchSize }, (_, i) => i % 10),
  count: batchSize
}
// The trainer's own one-thread stepper, reading its loss back every step.
const stepper = createSingleThreadStepper({ model, optimizer, shape: { size: 32, numClasses: 10 }, weightDecay: 5e-4 })
const oneWorker = { allReduceSmall: (v: ArrayLike<number>) => Float64Array.from(v) }
const step = values.worker
  ? async (): Promise<void> => {
      const grads = tf.tidy(() => {
        const shard = lossAndGradients(model, variables, batch, { size: 32, numClasses: 10 }, { lossScale: 0.5, reducer: oneWorker })
        shard.correct.dispose()
        return Object.values(shard.grads)
      })
      await Promise.all(grads.map((g) => g.data()))
      tf.dispose(grads)
    }
  : async (): Promise<void> => {
      await stepper.step(batch, 0.01)
    }
await step()
await step()

const perStep: Map<string, number>[] = []
const calls = new Map<string, number>()
const walls: number[] = []
for (let s = 0; s < steps; s++) {
  const start = performance.now()
  const profile = await tf.profile(step)
  walls.push(performance.now() - start)
  const byKernel = new Map<string, number>()
  for (const k of profile.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms)
    if (s === 0) calls.set(k.name, (calls.get(k.name) ?? 0) + 1)
  }
  perStep.push(byKernel)
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const kernels = [...calls.keys()].map((name) => ({ name, ms: median(perStep.map((m) => m.get(name) ?? 0)), calls: calls.get(name) ?? 0 }))
const nested = (name: string): boolean => name.endsWith('__op')
const total = kernels.filter((k) => !nested(k.name)).reduce((a, k) => a + k.ms, 0)
const table = kernels
  .sort((a, b) => b.ms - a.ms)
  .slice(0, rows)
  .map((k) => ({ kernel: k.name, ms: Number(k.ms.toFixed(1)), calls: k.calls, share: nested(k.name) ? '(nested)' : `${((k.ms / total) * 100).toFixed(1)}%` }))
if (values.json) {
  process.stdout.write(`${JSON.stringify({ backend: info.label, ...(kernelSet ? { kernels: kernelSet } : {}), width, batchSize, steps, wallMs: median(walls), kernelMs: total, kernels: table }, null, 2)}\n`)
} else {
  console.log(`${info.label}${kernelSet ? ` (kernels ${kernelSet})` : ''} · VGG11-BN width ${width} batch ${batchSize}${values.worker ? ' (one worker\'s shard, no update)' : ''}: median of ${steps} steps ${median(walls).toFixed(0)} ms wall, ${total.toFixed(0)} ms in kernels`)
  console.table(table)
}
