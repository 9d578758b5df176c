/**
 * `npm run bench -- [--json] [--widths 1,0.25] [--batch-size 64]`: images per second of VGG11-BN
 * training steps (forward, backward, SGD update) and inference at 32×32×3, after warm-up, on the
 * backend the engine picks. With --json prints exactly
 * `{ backend, device, threads, batchSize, results: [{ arch, width, trainImagesPerSecond, inferImagesPerSecond }] }`.
 * If PyTorch is importable, times the same step with bench/pytorch_vgg11.py and prints the ratio.
 * Then runs full-width training steps at batch 128 (issue 4: under 4 GB resident) and prints the
 * process's peak resident memory (to stderr with --json, whose stdout shape is fixed); skip that with
 * --no-memory-check.
 */
import * as tf from '@tensorflow/tfjs'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { selectBackend } from '../src/engine/backend/select-backend'
import { buildVgg } from '../src/engine/models/build-vgg'
import { forward } from '../src/engine/models/forward'
import { trainStep } from '../src/engine/train/trainer'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    widths: { type: 'string' },
    'batch-size': { type: 'string' },
    'min-seconds': { type: 'string' },
    'memory-check': { type: 'boolean', default: true }
  },
  allowNegative: true
})
const widths = (values.widths ?? '1,0.25').split(',').map(Number)
const batchSize = Number(values['batch-size'] ?? 64)
// Each measurement runs at least this long (and at least 2 steps), so fast cases are not noise.
const minSeconds = Number(values['min-seconds'] ?? 8)
const SIZE = 32
const CLASSES = 10

/** Runs `step` until minSeconds have passed (≥ 2 times) after `warmup` untimed runs; returns images/s. */
function measure(step: () => void, warmup: number): number {
  for (let i = 0; i < warmup; i++) step()
  let steps = 0
  const start = performance.now()
  while (steps < 2 || performance.now() - start < minSeconds * 1000) {
    step()
    steps++
  }
  return (steps * batchSize) / ((performance.now() - start) / 1000)
}

const info = await selectBackend()
const results: { arch: string; width: number; trainImagesPerSecond: number; inferImagesPerSecond: number }[] = []
for (const width of widths) {
  const model = buildVgg({ arch: 'vgg11_bn', width, numClasses: CLASSES, seed: 1 })
  const optimizer = tf.train.momentum(0.01, 0.9)
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const x = Float32Array.from({ length: batchSize * SIZE * SIZE * 3 }, () => Math.random() * 2 - 1)
  const labels = Int32Array.from({ length: batchSize }, (_, i) => i % CLASSES)
  const batch = { x, labels, count: batchSize }
  const train = measure(() => trainStep(model, optimizer, variables, batch, SIZE, CLASSES, 5e-4), 2)
  const input = tf.tensor4d(x, [batchSize, SIZE, SIZE, 3])
  const infer = measure(() => tf.tidy(() => forward(model, input, false).dataSync()), 2)
  input.dispose()
  optimizer.dispose()
  model.dispose()
  results.push({ arch: 'vgg11_bn', width, trainImagesPerSecond: round(train), inferImagesPerSecond: round(infer) })
  if (!values.json) process.stderr.write(`  width ${width}: train ${round(train)} img/s, infer ${round(infer)} img/s\n`)
}

const report = { backend: info.backend, device: info.device, threads: info.threads, batchSize, results }
if (values.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
} else {
  console.log(`VGG11-BN, batch ${batchSize}, ${SIZE}×${SIZE}×3 — ${info.label}`)
  console.table(results.map((r) => ({ width: r.width, 'train img/s': r.trainImagesPerSecond, 'infer img/s': r.inferImagesPerSecond })))
  comparePyTorch(results)
}
const memoryLine = values['memory-check'] ? checkMemory() : `peak RSS ${gigabytes(peakRss())} GB (no batch-128 step: --no-memory-check)`
if (values.json) process.stderr.write(`${memoryLine}\n`)
else console.log(memoryLine)

/** Peak resident set size of this process so far, in bytes. */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024
}

function gigabytes(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(2)
}

/** Two full-width VGG11-BN training steps at batch 128; returns the line that reports the peak RSS. */
function checkMemory(): string {
  const big = 128
  const model = buildVgg({ arch: 'vgg11_bn', width: 1, numClasses: CLASSES, seed: 1 })
  const optimizer = tf.train.momentum(0.01, 0.9)
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const batch = {
    x: Float32Array.from({ length: big * SIZE * SIZE * 3 }, () => Math.random() * 2 - 1),
    labels: Int32Array.from({ length: big }, (_, i) => i % CLASSES),
    count: big
  }
  for (let i = 0; i < 2; i++) trainStep(model, optimizer, variables, batch, SIZE, CLASSES, 5e-4)
  optimizer.dispose()
  model.dispose()
  const peak = peakRss()
  const verdict = peak < 4 * 2 ** 30 ? 'under' : 'OVER'
  return `peak RSS ${gigabytes(peak)} GB over the whole run, including 2 training steps of VGG11-BN width 1 at batch ${big} (${verdict} the 4 GB limit)`
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

/** Times the same step in PyTorch when it is importable, and prints workbench / PyTorch. */
function comparePyTorch(ours: typeof results): void {
  // $PYTHON first, then the PATH's python3, then the system one (Debian's python3-torch lives there).
  const candidates = [process.env['PYTHON'], 'python3', '/usr/bin/python3'].filter((p): p is string => Boolean(p))
  const python = candidates.find((p) => {
    try {
      execFileSync(p, ['-c', 'import torch'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })
  if (!python) {
    console.log(`PyTorch not importable (tried ${candidates.join(', ')}): no reference ratio.`)
    return
  }
  const script = fileURLToPath(new URL('./pytorch_vgg11.py', import.meta.url))
  const out = execFileSync(python, [script, '--json', '--widths', widths.join(','), '--batch-size', String(batchSize), '--min-seconds', String(minSeconds)], {
    encoding: 'utf8'
  })
  const torch = JSON.parse(out) as { threads: number; results: { width: number; trainImagesPerSecond: number; inferImagesPerSecond: number }[] }
  console.log(`PyTorch reference (${torch.threads} threads):`)
  console.table(
    torch.results.map((t) => {
      const mine = ours.find((r) => r.width === t.width)
      return {
        width: t.width,
        'torch train img/s': t.trainImagesPerSecond,
        'torch infer img/s': t.inferImagesPerSecond,
        'train ratio (ours/torch)': mine ? round(mine.trainImagesPerSecond / t.trainImagesPerSecond * 100) / 100 : null,
        'infer ratio (ours/torch)': mine ? round(mine.inferImagesPerSecond / t.inferImagesPerSecond * 100) / 100 : null
      }
    })
  )
}
