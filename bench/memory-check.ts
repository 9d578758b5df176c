/**
 * `npx tsx bench/memory-check.ts [--json] [--workers N] [--width 1] [--batch-size 128]`: the bench's memory
 * check alone (no timing), in a fresh process: two VGG11-BN training steps at width 1, batch 128, with the
 * trainer's own stepper (data-parallel over one worker thread per core on the CPU), then a sync, as
 * `npm run bench` runs after its timed steps. Prints the resident memory after each stage and the peak
 * (process.resourceUsage().maxRSS: worker threads live in this process, so it counts them), the same
 * figure as the bench's `peakRssGB`. The limit: ≤ 2.0 GB.
 */
import * as tf from '@tensorflow/tfjs'
import { parseArgs } from 'node:util'
import { selectBackend } from '../src/engine/backend/select-backend'
import { buildVgg } from '../src/engine/models/build-vgg'
import { createStepper } from '../src/engine/train/trainer'

const { values } = parseArgs({
  options: { json: { type: 'boolean' }, workers: { type: 'string' }, width: { type: 'string' }, 'batch-size': { type: 'string' } }
})
const width = Number(values.width ?? 1)
const batchSize = Number(values['batch-size'] ?? 128)
const SIZE = 32
const CLASSES = 10
const LIMIT_GB = 2.0

const gb = (bytes: number): number => Math.round((bytes / 2 ** 30) * 100) / 100
const stages: { stage: string; rssGB: number; peakRssGB: number }[] = []
function mark(stage: string): void {
  const entry = { stage, rssGB: gb(process.memoryUsage().rss), peakRssGB: gb(process.resourceUsage().maxRSS * 1024) }
  stages.push(entry)
  if (!values.json) process.stderr.write(`${stage.padEnd(22)} RSS ${entry.rssGB.toFixed(2)} GB, peak ${entry.peakRssGB.toFixed(2)} GB\n`)
}

const info = await selectBackend()
mark('backend')
const model = buildVgg({ arch: 'vgg11_bn', width, numClasses: CLASSES, seed: 1 })
const optimizer = tf.train.momentum(0.01, 0.9)
mark('model')
const stepper = await createStepper({
  model,
  optimizer,
  shape: { size: SIZE, numClasses: CLASSES },
  weightDecay: 5e-4,
  workers: values.workers === undefined ? undefined : Number(values.workers),
  batchSize
})
mark('stepper started')
const batch = {
  x: Float32Array.from({ length: batchSize * SIZE * SIZE * 3 }, () => Math.random() * 2 - 1),
  labels: Int32Array.from({ length: batchSize }, (_, i) => i % CLASSES),
  count: batchSize
}
for (let i = 1; i <= 2; i++) {
  await stepper.step(batch, 0.01)
  mark(`step ${i}`)
}
await stepper.sync()
mark('sync')
await stepper.dispose()
optimizer.dispose()
model.dispose()
mark('disposed')
const peak = gb(process.resourceUsage().maxRSS * 1024)
const report = { backend: info.backend, workers: stepper.workers, width, batchSize, peakRssGB: peak, limitGB: LIMIT_GB, under: peak <= LIMIT_GB, stages }
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
else console.log(`peak RSS ${peak.toFixed(2)} GB: VGG11-BN width ${width}, batch ${batchSize}, ${stepper.workers} worker(s) on ${info.backend} (${peak <= LIMIT_GB ? 'within' : 'OVER'} the ${LIMIT_GB} GB limit)`)
setTimeout(() => process.exit(0), 100).unref()
