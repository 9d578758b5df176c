/**
 * `npm run bench -- [--json] [--widths 1,0.25] [--batch-size 64] [--workers N]`: images per second of
 * VGG11-BN training steps (forward, backward, SGD update) and inference at 32×32×3, after warm-up, on
 * the backend the engine picks, with the trainer's own stepper (data-parallel over one worker thread
 * per core on the CPU backends; `threads` in the report is that worker count). With --json prints exactly
 * `{ backend, device, threads, batchSize, results: [{ arch, width, trainImagesPerSecond, inferImagesPerSecond }] }`.
 * If PyTorch is importable, times the same step with bench/pytorch_vgg11.py and prints the ratio.
 * Then runs full-width training steps at batch 128 (issue 4: under 4 GB resident) and prints the
 * process's peak resident memory (to stderr with --json, whose stdout shape is fixed); skip that with
 * --no-memory-check.
 */
import * as tf from '@tensorflow/tfjs'
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { selectBackend } from '../src/engine/backend/select-backend'
import { buildVgg } from '../src/engine/models/build-vgg'
import { forward } from '../src/engine/models/forward'
import { createStepper } from '../src/engine/train/trainer'
import type { StepBatch } from '../src/engine/train/train-step'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    widths: { type: 'string' },
    'batch-size': { type: 'string' },
    'min-seconds': { type: 'string' },
    workers: { type: 'string' },
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

const workersWanted = values.workers === undefined ? undefined : Number(values.workers)

/** Runs `step` until minSeconds have passed (≥ 2 times) after `warmup` untimed runs; returns images/s. */
async function measure(step: () => unknown, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await step()
  let steps = 0
  const start = performance.now()
  while (steps < 2 || performance.now() - start < minSeconds * 1000) {
    await step()
    steps++
  }
  return (steps * batchSize) / ((performance.now() - start) / 1000)
}

/** The trainer's stepper for a fresh VGG11-BN; the caller disposes it. */
async function stepperFor(width: number, batch: number) {
  const model = buildVgg({ arch: 'vgg11_bn', width, numClasses: CLASSES, seed: 1 })
  const optimizer = tf.train.momentum(0.01, 0.9)
  const stepper = await createStepper({ model, optimizer, shape: { size: SIZE, numClasses: CLASSES }, weightDecay: 5e-4, workers: workersWanted, batchSize: batch })
  return {
    model,
    stepper,
    async dispose() {
      await stepper.dispose()
      optimizer.dispose()
      model.dispose()
    }
  }
}

function randomBatch(count: number): StepBatch {
  return {
    x: Float32Array.from({ length: count * SIZE * SIZE * 3 }, () => Math.random() * 2 - 1),
    labels: Int32Array.from({ length: count }, (_, i) => i % CLASSES),
    count
  }
}

const info = await selectBackend()
const results: { arch: string; width: number; trainImagesPerSecond: number; inferImagesPerSecond: number }[] = []
let threads = 1
for (const width of widths) {
  const { model, stepper, dispose } = await stepperFor(width, batchSize)
  threads = stepper.workers
  const batch = randomBatch(batchSize)
  const train = await measure(() => stepper.step(batch, 0.01), 2)
  // Inference in this thread, as evaluation runs.
  await stepper.sync()
  const input = tf.tensor4d(batch.x, [batchSize, SIZE, SIZE, 3])
  const infer = await measure(async () => {
    const y = tf.tidy(() => forward(model, input, false))
    await y.data() // never dataSync: it blocks and fails on webgpu
    y.dispose()
  }, 2)
  input.dispose()
  await dispose()
  results.push({ arch: 'vgg11_bn', width, trainImagesPerSecond: round(train), inferImagesPerSecond: round(infer) })
  if (!values.json) process.stderr.write(`  width ${width}: train ${round(train)} img/s, infer ${round(infer)} img/s\n`)
}

const report = { backend: info.backend, device: info.device, threads, batchSize, results }
if (values.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
} else {
  console.log(`VGG11-BN, batch ${batchSize}, ${SIZE}×${SIZE}×3 — ${info.label}, training over ${threads} worker thread${threads === 1 ? '' : 's'}`)
  console.table(results.map((r) => ({ width: r.width, 'train img/s': r.trainImagesPerSecond, 'infer img/s': r.inferImagesPerSecond })))
  comparePyTorch(results)
}
const memoryLine = values['memory-check'] ? await checkMemory() : `peak RSS ${gigabytes(peakRss())} GB (no batch-128 step: --no-memory-check)`
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
async function checkMemory(): Promise<string> {
  const big = 128
  const { stepper, dispose } = await stepperFor(1, big)
  const batch = randomBatch(big)
  for (let i = 0; i < 2; i++) await stepper.step(batch, 0.01)
  await stepper.sync()
  await dispose()
  // Worker threads live in this process: its peak counts their memory too.
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
  // PyTorch's own thread choice first (Debian's build picks 1 here), then one thread per core, as a
  // user who calls torch.set_num_threads would run it: both are fair comparisons, and both are shown.
  const cores = availableParallelism()
  let defaultThreads: number | undefined
  for (const threads of [0, cores]) {
    if (threads !== 0 && threads === defaultThreads) break
    const args = [script, '--json', '--widths', widths.join(','), '--batch-size', String(batchSize), '--min-seconds', String(minSeconds), '--threads', String(threads)]
    const torch = JSON.parse(execFileSync(python, args, { encoding: 'utf8' })) as { threads: number; results: { width: number; trainImagesPerSecond: number; inferImagesPerSecond: number }[] }
    defaultThreads ??= torch.threads
    console.log(threads === 0 ? `PyTorch reference, its default ${torch.threads} thread(s):` : `PyTorch with torch.set_num_threads(${torch.threads}):`)
    console.table(
      torch.results.map((t) => {
        const mine = ours.find((r) => r.width === t.width)
        const ratio = (a: number | undefined, b: number): number | null => (a === undefined ? null : Number((a / b).toFixed(2)))
        return {
          width: t.width,
          'torch train img/s': t.trainImagesPerSecond,
          'torch infer img/s': t.inferImagesPerSecond,
          'train ratio (ours/torch)': ratio(mine?.trainImagesPerSecond, t.trainImagesPerSecond),
          'infer ratio (ours/torch)': ratio(mine?.inferImagesPerSecond, t.inferImagesPerSecond)
        }
      })
    )
  }
}
