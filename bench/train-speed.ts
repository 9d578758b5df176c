/**
 * `npm run bench -- [--json] [--widths 1,0.25] [--batch-size 64] [--workers N] [--backend NAME|all] [--min-seconds S] [--warmup-seconds S]`:
 * images per second of VGG11-BN training steps (forward, backward, SGD update) and inference at 32×32×3,
 * after warm-up, with the trainer's own stepper (data-parallel over one worker thread per core on the CPU
 * backends; `threads` in the report is that worker count).
 *
 * Without --backend: on the backend the engine picks, in this process. With --json prints exactly
 * `{ backend, device, threads, batchSize, kernels?, warmupSeconds, minSeconds, results: [{ arch, width, trainImagesPerSecond, inferImagesPerSecond }], peakRssGB, memoryChecked }`:
 * `kernels` on wasm says which of the workbench's kernels ran ("simd+fma", "simd" or "off"; see
 * simd-kernels.ts). If PyTorch is importable, times the same step with bench/pytorch_vgg11.py right
 * after (its default threads, then one per core) and prints the ratios; with --json they are added as
 * `pytorch` (as in `--backend all --json`) and `ratios: [{ width, torchThreads, train, infer }]`
 * (ours / PyTorch's images per second; `--no-pytorch` leaves both out). First of all it runs two full-width training steps at batch 128 and a sync (issue 4: under
 * 4 GB resident; issue 20: within 2.0 GB), and reports the process's peak resident memory, worker
 * threads included: the line gives the peak after those steps and over the whole run, `peakRssGB` the
 * whole run's (the line goes to stderr with --json); --no-memory-check skips those steps
 * (`memoryChecked` false).
 *
 * `--backend NAME` forces one backend in this process (its --json: one BackendBench of side-by-side.ts).
 * `--backend all` (tensorflow, webgpu, wasm) or a comma list runs each backend in a child process (a
 * process picks its backend once) and prints them side by side, PyTorch once; a backend that cannot start
 * is listed with its reason; its --json is a SideBySideReport. `--no-pytorch` skips PyTorch;
 * `--backend-timeout S` (default 3600) kills a child that runs longer.
 *
 * Every figure runs at least --min-seconds (default 8) after a warm-up of at least --warmup-seconds
 * (default: --min-seconds) and two steps, at least one timed step: one warm-up step only, and a single
 * timed step, where one step outlasts --min-seconds (WebGPU on a software adapter at width 1: about a
 * minute a step). PyTorch's reference warms up and times the same way. The side-by-side tables give
 * each figure's steps.
 */
import * as tf from '@tensorflow/tfjs'
import { parseArgs } from 'node:util'
import type { BackendInfo, BackendName } from '../src/shared/backend'
import { selectBackend } from '../src/engine/backend/select-backend'
import { buildVgg } from '../src/engine/models/build-vgg'
import { forward } from '../src/engine/models/forward'
import { createStepper } from '../src/engine/train/trainer'
import type { StepBatch } from '../src/engine/train/train-step'
import { runPyTorch } from './pytorch-reference'
import { benchInChildren } from './run-backends'
import { formatSideBySide, parseBackendChoice, SOFTWARE_NOTE, type BackendBench, type BackendChoice, type PyTorchRun, type SideBySideReport, type WidthFigures } from './side-by-side'
import { ENV } from '../src/engine/env'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    widths: { type: 'string' },
    'batch-size': { type: 'string' },
    'min-seconds': { type: 'string' },
    'warmup-seconds': { type: 'string' },
    workers: { type: 'string' },
    'memory-check': { type: 'boolean', default: true },
    backend: { type: 'string' },
    pytorch: { type: 'boolean', default: true },
    'backend-timeout': { type: 'string' }
  },
  allowNegative: true
})
const widths = (values.widths ?? '1,0.25').split(',').map(Number)
const batchSize = Number(values['batch-size'] ?? 64)
// Each measurement runs at least this long (and at least 1 step; 2 unless one step outlasts it), so
// fast cases are not noise and slow ones finish.
const minSeconds = Number(values['min-seconds'] ?? 8)
// Untimed steps before each measurement, for at least this long: see measure().
const warmupSeconds = Number(values['warmup-seconds'] ?? minSeconds)
const SIZE = 32
const CLASSES = 10

const workersWanted = values.workers === undefined ? undefined : Number(values.workers)

let choice: BackendChoice
try {
  choice = parseBackendChoice(values.backend)
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`)
  process.exit(2)
}

interface Measured {
  imagesPerSecond: number
  steps: number
}

/**
 * Runs `step` until minSeconds have passed after the warm-up; returns images/s and the timed steps.
 * Warm-up: untimed runs for at least warmupSeconds, at least two; one only when it alone outlasts
 * minSeconds (WebGPU on a software adapter at width 1). A time, not a count of steps: V8 keeps
 * optimizing the engine's JS (tfjs's bookkeeping, ours) in each worker over the first hundred or so
 * steps: at width ¼ a new stepper's first 4 s ran at 722 img/s where the same run held 857–909 from
 * its 8th second to its 48th (issue 20), and a training run is minutes of that steady state.
 * Timed: at least two runs, or one when it alone outlasts minSeconds.
 */
async function measure(step: () => unknown): Promise<Measured> {
  const warmStart = performance.now()
  await step()
  if (performance.now() - warmStart < minSeconds * 1000) {
    do await step()
    while (performance.now() - warmStart < warmupSeconds * 1000)
  }
  let steps = 0
  const start = performance.now()
  while (steps === 0 || performance.now() - start < minSeconds * 1000) {
    await step()
    steps++
  }
  return { imagesPerSecond: (steps * batchSize) / ((performance.now() - start) / 1000), steps }
}

/** The trainer's stepper for a fresh VGG11-BN; the caller disposes it. */
async function stepperFor(width: number, batch: number, workers: number | undefined) {
  const model = buildVgg({ arch: 'vgg11_bn', width, numClasses: CLASSES, seed: 1 })
  const optimizer = tf.train.momentum(0.01, 0.9)
  const stepper = await createStepper({ model, optimizer, shape: { size: SIZE, numClasses: CLASSES }, weightDecay: 5e-4, workers, batchSize: batch })
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

/** Times training and inference of one width on this process's backend. */
async function benchWidth(width: number, workers: number | undefined): Promise<{ train: Measured; infer: Measured; threads: number }> {
  const { model, stepper, dispose } = await stepperFor(width, batchSize, workers)
  try {
    const batch = randomBatch(batchSize)
    const train = await measure(() => stepper.step(batch, 0.01))
    // Inference in this thread, as evaluation runs.
    await stepper.sync()
    const input = tf.tensor4d(batch.x, [batchSize, SIZE, SIZE, 3])
    try {
      const infer = await measure(async () => {
        const y = tf.tidy(() => forward(model, input, false))
        await y.data() // never dataSync: it blocks and fails on webgpu
        y.dispose()
      })
      return { train, infer, threads: stepper.workers }
    } finally {
      input.dispose()
    }
  } finally {
    await dispose()
  }
}

/** The engine's own choice, in this process: the bench as it always was. */
async function runDefault(): Promise<void> {
  const info = await selectBackend()
  const steps = await runMemorySteps(info)
  const results: (Figures & { arch: string })[] = []
  let threads = 1
  for (const width of widths) {
    const measured = await benchWidth(width, info.backend === 'webgpu' ? undefined : workersWanted)
    threads = measured.threads
    const train = round(measured.train.imagesPerSecond)
    const infer = round(measured.infer.imagesPerSecond)
    results.push({ arch: 'vgg11_bn', width, trainImagesPerSecond: train, inferImagesPerSecond: infer })
    if (!values.json) process.stderr.write(`  width ${width}: train ${train} img/s (${stepCount(measured.train.steps)}), infer ${infer} img/s (${stepCount(measured.infer.steps)})\n`)
  }

  const kernels = info.wasmKernels
  const memory = memoryReport(steps)
  const report = { backend: info.backend, device: info.device, threads, batchSize, ...(kernels ? { kernels } : {}), warmupSeconds, minSeconds, results, peakRssGB: memory.gigabytes, memoryChecked: memory.checked }
  if (values.json) {
    // The PyTorch reference right after ours (the issue's "back to back"), with the ratios.
    const pytorch = values.pytorch ? runPyTorch({ widths, batchSize, minSeconds, warmupSeconds }) : undefined
    const withTorch = pytorch ? { ...report, pytorch, ratios: pytorch.available ? pytorch.runs.flatMap((run) => ratiosTo(results, run)) : [] } : report
    process.stdout.write(`${JSON.stringify(withTorch, null, 2)}\n`)
  } else {
    console.log(`VGG11-BN, batch ${batchSize}, ${SIZE}×${SIZE}×3 — ${info.label}, training over ${threads} worker thread${threads === 1 ? '' : 's'}${kernels ? `, wasm kernels ${kernels}` : ''}`)
    if (info.adapter?.software) console.log(`(${info.adapter.description}: ${SOFTWARE_NOTE})`)
    console.table(results.map((r) => ({ width: r.width, 'train img/s': r.trainImagesPerSecond, 'infer img/s': r.inferImagesPerSecond })))
    if (values.pytorch) comparePyTorch(results)
  }
  printMemory(memory.line)
}

/** One backend, forced in this process (also what each child of `--backend all` runs). */
async function runSingle(backend: BackendName): Promise<number> {
  // The environment, not only the argument: data-parallel worker threads read it too.
  process.env[ENV.backend] = backend
  const started = performance.now()
  let info: BackendInfo
  try {
    info = await selectBackend(backend)
  } catch (error) {
    const reason = String((error as Error).message).replace(/^WORKBENCH_BACKEND=\w+, but /, '')
    const bench: BackendBench = { backend, status: 'unavailable', reason, results: [], notes: [] }
    if (values.json) process.stdout.write(`${JSON.stringify(bench, null, 2)}\n`)
    else console.log(`${backend}: cannot start here: ${reason}`)
    return 3
  }
  const notes = [...info.notes]
  const workers = info.backend === 'webgpu' ? undefined : workersWanted
  if (info.backend === 'webgpu' && workersWanted !== undefined) notes.push('--workers ignored: WebGPU trains in one thread.')
  const steps = info.backend === 'webgpu' ? undefined : await runMemorySteps(info)
  const results: WidthFigures[] = []
  let threads = info.threads
  for (const width of widths) {
    try {
      const m = await benchWidth(width, workers)
      threads = m.threads
      const figures: WidthFigures = {
        arch: 'vgg11_bn',
        width,
        trainImagesPerSecond: round(m.train.imagesPerSecond),
        inferImagesPerSecond: round(m.infer.imagesPerSecond),
        trainSteps: m.train.steps,
        inferSteps: m.infer.steps
      }
      results.push(figures)
      process.stderr.write(`  width ${width}: train ${figures.trainImagesPerSecond} img/s (${stepCount(figures.trainSteps)}), infer ${figures.inferImagesPerSecond} img/s (${stepCount(figures.inferSteps)})\n`)
    } catch (error) {
      const message = String((error as Error).message).split('\n')[0] as string
      results.push({ arch: 'vgg11_bn', width, trainImagesPerSecond: null, inferImagesPerSecond: null, trainSteps: 0, inferSteps: 0, error: message })
      process.stderr.write(`  width ${width}: failed: ${message}\n`)
    }
  }
  const allFailed = results.every((r) => r.error !== undefined)
  const kernels = info.wasmKernels
  const seconds = round((performance.now() - started) / 1000)
  const memory = steps === undefined ? undefined : memoryReport(steps)
  const bench: BackendBench = {
    backend,
    status: allFailed ? 'failed' : 'ok',
    ...(allFailed ? { reason: `every width failed: ${results[0]?.error ?? ''}` } : {}),
    label: info.label,
    device: info.device,
    ...(info.adapter ? { adapter: info.adapter, software: info.adapter.software } : {}),
    threads,
    batchSize,
    ...(kernels ? { kernels } : {}),
    results,
    notes,
    seconds,
    ...(memory ? { peakRssGB: memory.gigabytes, memoryChecked: memory.checked } : {})
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(bench, null, 2)}\n`)
  } else {
    const pytorch = values.pytorch ? runPyTorch({ widths, batchSize, minSeconds, warmupSeconds }) : null
    console.log(formatSideBySide({ arch: 'vgg11_bn', batchSize, widths, minSeconds, warmupSeconds, backends: [bench], pytorch }).join('\n'))
  }
  if (memory) printMemory(memory.line)
  else if (values['memory-check']) process.stderr.write('no memory check on webgpu: the process RSS does not count GPU memory\n')
  return allFailed ? 1 : 0
}

/** Several backends, each in a child process, side by side; PyTorch once. */
async function runMany(backends: BackendName[]): Promise<void> {
  const timeoutSeconds = Number(values['backend-timeout'] ?? 3600)
  const log = (line: string): void => void process.stderr.write(`${line}\n`)
  const results = await benchInChildren(backends, { widths, batchSize, minSeconds, warmupSeconds, workers: workersWanted, timeoutSeconds, log })
  if (values.pytorch) log('PyTorch reference…')
  const pytorch = values.pytorch ? runPyTorch({ widths, batchSize, minSeconds, warmupSeconds }) : null
  const report: SideBySideReport = { arch: 'vgg11_bn', batchSize, widths, minSeconds, warmupSeconds, backends: results, pytorch }
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else console.log(formatSideBySide(report).join('\n'))
}

interface Memory {
  /** Peak resident memory of the process, worker threads included, in GiB (2 decimals). */
  gigabytes: number
  /** Whether the width-1, batch-128 steps ran (not with --no-memory-check). */
  checked: boolean
  line: string
}

/**
 * Runs the memory steps unless --no-memory-check (then undefined); returns the peak RSS just after
 * them, in bytes. They run first, before the timed steps: what those leave in this process (the main
 * thread's wasm memory, which never shrinks, grown by inference at width 1; the last stepper's shared
 * buffers until a garbage collection) then adds nothing to the steps' own peak.
 */
async function runMemorySteps(info: BackendInfo): Promise<number | undefined> {
  if (values['memory-check'] !== true) return undefined
  await checkMemory(info)
  return peakRss()
}

/** The whole run's peak and the line that reports it, with the memory steps' own peak. */
function memoryReport(stepsPeak: number | undefined): Memory {
  const peak = peakRss()
  if (stepsPeak === undefined) return { gigabytes: Number(gigabytes(peak)), checked: false, line: `peak RSS ${gigabytes(peak)} GB (no batch-128 step: --no-memory-check)` }
  const verdict = stepsPeak <= MEMORY_GOAL_GB * 2 ** 30 ? 'within' : 'OVER'
  return {
    gigabytes: Number(gigabytes(peak)),
    checked: true,
    line:
      `peak RSS ${gigabytes(stepsPeak)} GB after 2 training steps of VGG11-BN width 1 at batch ${MEMORY_BATCH} and a sync, run first (${verdict} the ${MEMORY_GOAL_GB} GB goal; ` +
      `the limit is 4 GB); ${gigabytes(peak)} GB over the whole run`
  }
}

/** Prints the memory line (to stderr with --json, whose stdout is the report alone). */
function printMemory(line: string): void {
  if (values.json) process.stderr.write(`${line}\n`)
  else console.log(line)
}

/** Peak resident set size of this process so far, in bytes. */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024
}

function gigabytes(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(2)
}

/** Issue 20: the width-1 steps at batch 128 within 2.0 GB (issue 4's limit was 4 GB). */
const MEMORY_GOAL_GB = 2.0

/** The memory steps' batch. */
const MEMORY_BATCH = 128

/**
 * Two full-width VGG11-BN training steps at batch 128, then a sync (as an epoch's end does). Worker
 * threads live in this process: its peak counts their memory too. The same steps alone, in a fresh
 * process and stage by stage: bench/memory-check.ts.
 */
async function checkMemory(info: BackendInfo): Promise<void> {
  const { stepper, dispose } = await stepperFor(1, MEMORY_BATCH, info.backend === 'webgpu' ? undefined : workersWanted)
  const batch = randomBatch(MEMORY_BATCH)
  for (let i = 0; i < 2; i++) await stepper.step(batch, 0.01)
  await stepper.sync()
  await dispose()
}

function stepCount(n: number): string {
  return `${n} step${n === 1 ? '' : 's'}`
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

type Figures = { width: number; trainImagesPerSecond: number; inferImagesPerSecond: number }

/** Ours / PyTorch's images per second, per width, for one PyTorch run (its thread count). */
function ratiosTo(ours: Figures[], torch: PyTorchRun): { width: number; torchThreads: number; train: number | null; infer: number | null }[] {
  const ratio = (a: number | undefined, b: number): number | null => (a === undefined ? null : Number((a / b).toFixed(2)))
  return torch.results.map((t) => {
    const mine = ours.find((r) => r.width === t.width)
    return { width: t.width, torchThreads: torch.threads, train: ratio(mine?.trainImagesPerSecond, t.trainImagesPerSecond), infer: ratio(mine?.inferImagesPerSecond, t.inferImagesPerSecond) }
  })
}

/** Times the same step in PyTorch when it is importable, and prints workbench / PyTorch. */
function comparePyTorch(ours: Figures[]): void {
  const reference = runPyTorch({
    widths,
    batchSize,
    minSeconds,
    warmupSeconds,
    onRun: (torch, isDefault) => {
      console.log(isDefault ? `PyTorch reference, its default ${torch.threads} thread(s):` : `PyTorch with torch.set_num_threads(${torch.threads}):`)
      const ratios = ratiosTo(ours, torch)
      console.table(
        torch.results.map((t, i) => ({
          width: t.width,
          'torch train img/s': t.trainImagesPerSecond,
          'torch infer img/s': t.inferImagesPerSecond,
          'train ratio (ours/torch)': ratios[i]?.train ?? null,
          'infer ratio (ours/torch)': ratios[i]?.infer ?? null
        }))
      )
    }
  })
  if (!reference.available) console.log(reference.reason)
}

let code = 0
if (choice.mode === 'many') await runMany(choice.backends)
else if (choice.mode === 'single') code = await runSingle(choice.backend)
else await runDefault()
process.exitCode = code
// A WebGPU device is held for the life of the process (see webgpu.ts) and keeps Node alive: leave once
// the output has had a moment to flush.
setTimeout(() => process.exit(code), 300).unref()
