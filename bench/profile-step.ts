/**
 * `npx tsx bench/profile-step.ts [--width 0.25] [--batch-size 64]`: where the time of one VGG11-BN
 * training step goes, by kernel (tf.profile), summed over kernel names and sorted. For issue 4:
 * profile before optimizing.
 */
import * as tf from '@tensorflow/tfjs'
import { parseArgs } from 'node:util'
import { selectBackend } from '../src/engine/backend/select-backend'
import { buildVgg } from '../src/engine/models/build-vgg'
import { trainStep } from '../src/engine/train/trainer'

const { values } = parseArgs({ options: { width: { type: 'string' }, 'batch-size': { type: 'string' } } })
const width = Number(values.width ?? 0.25)
const batchSize = Number(values['batch-size'] ?? 64)
const info = await selectBackend()
const model = buildVgg({ arch: 'vgg11_bn', width, numClasses: 10, seed: 1 })
const optimizer = tf.train.momentum(0.01, 0.9)
const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
const batch = {
  x: Float32Array.from({ length: batchSize * 32 * 32 * 3 }, () => Math.random() * 2 - 1),
  labels: Int32Array.from({ length: batchSize }, (_, i) => i % 10),
  count: batchSize
}
const step = (): void => void trainStep(model, optimizer, variables, batch, 32, 10, 5e-4)
step()
step()
const start = performance.now()
const profile = await tf.profile(step)
const wall = performance.now() - start
const byKernel = new Map<string, { ms: number; calls: number }>()
for (const k of profile.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
  const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 }
  entry.ms += ms
  entry.calls++
  byKernel.set(k.name, entry)
}
const total = [...byKernel.values()].reduce((a, b) => a + b.ms, 0)
console.log(`${info.label} · VGG11-BN width ${width} batch ${batchSize}: step ${wall.toFixed(0)} ms wall, ${total.toFixed(0)} ms in ${profile.kernels.length} kernels`)
console.table(
  [...byKernel.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 20)
    .map(([name, e]) => ({ kernel: name, ms: Number(e.ms.toFixed(1)), calls: e.calls, share: `${((e.ms / total) * 100).toFixed(1)}%` }))
)
