/**
 * `cli gpu-check` (`npm run gpu-check`): what a user's GPU machine runs to tell us where the workbench
 * stands there. Prints ONE JSON report on stdout (progress goes to stderr):
 * `{ when, machine, doctor, bench, cifar10, errors }` — doctor's backend choice (as `doctor --json`),
 * every backend benchmarked side by side (as `bench --backend all --json`) and a 2-epoch CIFAR-10 run at
 * width 1 on the chosen backend (as `train --json`).
 *
 * Each part runs in a child process of its own, so a native crash (CUDA, a GPU driver) or a hang ends
 * that part only: its failure is recorded in `errors` and the rest goes on. The report is always
 * printed; the exit code is 0 when `errors` is empty, else 1.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { arch, availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { BackendInfo, GpuAdapterInfo } from '../../shared/backend'
import { DEFAULT_TRAIN_CONFIG } from '../../shared/train-config'
import { resolveDataDir } from '../../engine/datasets-library/data-dir'
import { listLibrary } from '../../engine/datasets-library/library-listing'
import { detectDatasetId } from '../../engine/data/load-dataset'
import type { SideBySideReport } from '../../../bench/side-by-side'
import { numberFlag } from '../args'
import { applyBackendFlag, BACKEND_FLAG_OPTIONS, BACKEND_FLAG_USAGE } from '../backend-flag'

export const GPU_CHECK_USAGE = `usage: cli gpu-check [--cifar10 DIR] [--data-dir DIR] [--epochs 2] [--width 1] [--train-per-class N]
  [--batch-size N] [--cifar-on-cpu] [--skip-cifar] ${BACKEND_FLAG_USAGE}
  [--bench-backends all|wasm,webgpu,…] [--bench-widths 1,0.25] [--bench-seconds 8] [--bench-batch-size 64] [--skip-bench]`

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(ROOT, 'src/cli/index.ts')
const BENCH = join(ROOT, 'bench/train-speed.ts')
const DOWNLOAD_HINT = 'get it with `npm run cli -- dataset download cifar10` (into the workbench data folder, where gpu-check finds it), or pass `--cifar10 DIR` (the folder of data_batch_1..5.bin, test_batch.bin, batches.meta.txt)'

/** The report's parts that can fail, each recorded in `errors` without stopping the others. */
export type GpuCheckPart = 'machine' | 'doctor' | 'bench' | 'cifar10'

/** The 2-epoch CIFAR-10 run, as `train --json` reports it plus what it ran on. */
export interface CifarCheck {
  ran: boolean
  /** Why it did not run (no dataset, a CPU backend, --skip-cifar). */
  reason?: string
  dataset?: string
  epochs: number
  width: number
  trainPerClass: number | null
  batchSize?: number
  status?: string
  bestValAcc?: number | null
  bestEpoch?: number | null
  testAcc?: number | null
  imagesPerSecond?: number
  /** Training time as the trainer measured it; `wallSeconds` adds process start and data loading. */
  seconds?: number
  wallSeconds?: number
  backend?: string
  /** As run.json records it: "gpu · NVIDIA GeForce RTX 4090", "cpu". */
  device?: string
  adapter?: GpuAdapterInfo | null
  notes?: string[]
}

export interface GpuCheckReport {
  when: string
  machine: { cpus: number; cpuModel: string; memory: number; memoryGiB: number; platform: string; arch: string; osRelease: string; node: string; gpus: string[] | null } | null
  doctor: BackendInfo | null
  bench: SideBySideReport | null
  cifar10: CifarCheck | null
  errors: { part: GpuCheckPart; message: string }[]
}

interface Options {
  cifar10?: string
  dataDir?: string
  epochs: number
  width: number
  trainPerClass?: number
  batchSize?: number
  cifarOnCpu: boolean
  skipCifar: boolean
  skipBench: boolean
  benchBackends: string
  benchWidths: string
  benchSeconds: number
  benchBatchSize?: number
  /** Whether any of the CIFAR run's size was chosen on the command line (a small run is fine on a CPU). */
  sized: boolean
}

function parseGpuCheckArgs(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      cifar10: { type: 'string' },
      'data-dir': { type: 'string' },
      epochs: { type: 'string' },
      width: { type: 'string' },
      'train-per-class': { type: 'string' },
      'batch-size': { type: 'string' },
      'cifar-on-cpu': { type: 'boolean' },
      'skip-cifar': { type: 'boolean' },
      'skip-bench': { type: 'boolean' },
      'bench-backends': { type: 'string' },
      'bench-widths': { type: 'string' },
      'bench-seconds': { type: 'string' },
      'bench-batch-size': { type: 'string' },
      ...BACKEND_FLAG_OPTIONS
    }
  })
  // Forces the backend of doctor and the CIFAR run (children inherit the environment); bench tries them all.
  applyBackendFlag(values.backend)
  return {
    cifar10: values.cifar10 === undefined ? undefined : resolve(values.cifar10),
    dataDir: values['data-dir'],
    epochs: numberFlag('epochs', values.epochs) ?? 2,
    width: numberFlag('width', values.width) ?? 1,
    trainPerClass: numberFlag('train-per-class', values['train-per-class']),
    batchSize: numberFlag('batch-size', values['batch-size']),
    cifarOnCpu: values['cifar-on-cpu'] ?? false,
    skipCifar: values['skip-cifar'] ?? false,
    skipBench: values['skip-bench'] ?? false,
    benchBackends: values['bench-backends'] ?? 'all',
    benchWidths: values['bench-widths'] ?? '1,0.25',
    benchSeconds: numberFlag('bench-seconds', values['bench-seconds']) ?? 8,
    benchBatchSize: numberFlag('bench-batch-size', values['bench-batch-size']),
    sized: values.epochs !== undefined || values.width !== undefined || values['train-per-class'] !== undefined
  }
}

/** `cli gpu-check`: see the file comment. */
export async function runGpuCheckCommand(argv: string[]): Promise<number> {
  const options = parseGpuCheckArgs(argv)
  const report: GpuCheckReport = { when: new Date().toISOString(), machine: null, doctor: null, bench: null, cifar10: null, errors: [] }
  const fail = (part: GpuCheckPart, error: unknown): void => void report.errors.push({ part, message: messageOf(error) })

  try {
    report.machine = await describeMachine()
  } catch (error) {
    fail('machine', error)
  }

  progress('doctor: which backend the engine picks')
  try {
    report.doctor = parseJson<BackendInfo>(await runChild('doctor', [CLI, 'doctor', '--json'], 300), 'doctor --json')
    progress(`doctor: ${report.doctor.label}`)
  } catch (error) {
    fail('doctor', error)
  }

  if (options.skipBench) progress('bench: skipped (--skip-bench)')
  else {
    progress(`bench: VGG11-BN on every backend that starts (${options.benchBackends}), widths ${options.benchWidths}`)
    try {
      const args = [BENCH, '--backend', options.benchBackends, '--json', '--no-memory-check', '--widths', options.benchWidths, '--min-seconds', String(options.benchSeconds)]
      if (options.benchBatchSize !== undefined) args.push('--batch-size', String(options.benchBatchSize))
      // Each backend's child has its own limit (an hour); this one only guards against the parent hanging.
      const bench = parseJson<SideBySideReport>(await runChild('bench', args, 4 * 3600), 'bench --json')
      report.bench = bench
      for (const b of bench.backends ?? []) {
        if (b.status === 'failed') report.errors.push({ part: 'bench', message: `${b.backend}: ${b.reason ?? 'failed'}` })
        for (const r of b.results) if (r.error) report.errors.push({ part: 'bench', message: `${b.backend} width ${r.width}: ${r.error}` })
      }
    } catch (error) {
      fail('bench', error)
    }
  }

  try {
    report.cifar10 = await runCifar(options, report)
    if (!report.cifar10.ran && !options.skipCifar) report.errors.push({ part: 'cifar10', message: report.cifar10.reason ?? 'did not run' })
  } catch (error) {
    report.cifar10 = { ran: false, reason: messageOf(error), epochs: options.epochs, width: options.width, trainPerClass: options.trainPerClass ?? null }
    fail('cifar10', error)
  }

  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  progress(report.errors.length === 0 ? 'done, no errors' : `done, ${report.errors.length} error(s): ${report.errors.map((e) => e.part).join(', ')}`)
  return report.errors.length === 0 ? 0 : 1
}

/** The 2-epoch CIFAR-10 run through the train command, in its own process (and the trainer's). */
async function runCifar(options: Options, report: GpuCheckReport): Promise<CifarCheck> {
  const base: CifarCheck = { ran: false, epochs: options.epochs, width: options.width, trainPerClass: options.trainPerClass ?? null, ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}) }
  if (options.skipCifar) {
    progress('cifar10: skipped (--skip-cifar)')
    return { ...base, reason: 'skipped (--skip-cifar)' }
  }
  const found = await findCifar10(options)
  if ('reason' in found) return { ...base, reason: found.reason }
  const doctor = report.doctor
  if (doctor?.device === 'cpu' && !options.sized && !options.cifarOnCpu) {
    return { ...base, dataset: found.dir, reason: `not run: the chosen backend runs on the CPU (${doctor.label}), where ${options.epochs} epochs of CIFAR-10 at width ${options.width} ${cpuEstimate(report, options)}. Fix the GPU (see doctor.gpuProblem), or pass --cifar-on-cpu, or a smaller run (--width 0.125 --train-per-class 500).` }
  }
  const out = await mkdtemp(join(tmpdir(), 'workbench-gpu-check-'))
  try {
    const args = [CLI, 'train', '--dataset', found.id, '--epochs', String(options.epochs), '--width', String(options.width), '--out', out, '--json']
    if (options.trainPerClass !== undefined) args.push('--train-per-class', String(options.trainPerClass))
    if (options.batchSize !== undefined) args.push('--batch-size', String(options.batchSize))
    progress(`cifar10: training ${options.epochs} epoch(s) at width ${options.width} on ${found.dir}${options.trainPerClass !== undefined ? `, ${options.trainPerClass} images per class` : ', the full training set'}`)
    const started = performance.now()
    const summary = parseJson<{ status: string; bestValAcc: number | null; bestEpoch: number | null; testAcc: number | null; imagesPerSecond: number; seconds: number; backend: string; device: string; notes: string[] }>(
      await runChild('cifar10', args, 6 * 3600),
      'train --json'
    )
    const wallSeconds = Math.round((performance.now() - started) / 100) / 10
    // run.json names the adapter with the device ("gpu · NVIDIA …"); the summary has only gpu/cpu.
    const record = await readFile(join(out, 'run.json'), 'utf8')
      .then((text) => JSON.parse(text) as { device?: string | null })
      .catch(() => undefined)
    const adapter = doctor && doctor.backend === summary.backend ? (doctor.adapter ?? null) : null
    const check: CifarCheck = {
      ...base,
      ran: true,
      dataset: found.dir,
      status: summary.status,
      bestValAcc: summary.bestValAcc,
      bestEpoch: summary.bestEpoch,
      testAcc: summary.testAcc,
      imagesPerSecond: summary.imagesPerSecond,
      seconds: summary.seconds,
      wallSeconds,
      backend: summary.backend,
      device: record?.device ?? summary.device,
      adapter,
      notes: [...(summary.notes ?? []), ...(adapter?.software ? [`${adapter.description} is a software adapter: the speed is a CPU's, not a GPU's (correctness only).`] : [])]
    }
    if (summary.status !== 'done') report.errors.push({ part: 'cifar10', message: `the run ended with status '${summary.status}'` })
    return check
  } finally {
    await rm(out, { recursive: true, force: true }).catch(() => undefined)
  }
}

/** What a CPU run would cost, from the bench's width-1 training figure of the chosen backend when there is one. */
function cpuEstimate(report: GpuCheckReport, options: Options): string {
  const backend = report.bench?.backends?.find((b) => b.backend === report.doctor?.backend)
  const speed = backend?.results.find((r) => r.width === options.width)?.trainImagesPerSecond
  if (!speed) return 'would take an hour or more'
  const images = options.epochs * 50_000 * (1 - DEFAULT_TRAIN_CONFIG.valFraction)
  return `would take about ${Math.round(images / speed / 60)} minutes (bench: ${speed} img/s)`
}

/** The CIFAR-10 folder: --cifar10 DIR, else the library's CIFAR-10 in the data folder, else why not. */
async function findCifar10(options: Options): Promise<{ id: string; dir: string } | { reason: string }> {
  if (options.cifar10 !== undefined) {
    if (!existsSync(options.cifar10)) return { reason: `--cifar10 ${options.cifar10}: no such folder; ${DOWNLOAD_HINT}` }
    const id = await detectDatasetId(options.cifar10)
    if (!id?.startsWith('cifar10:')) return { reason: `--cifar10 ${options.cifar10} is not a CIFAR-10 binary folder; ${DOWNLOAD_HINT}` }
    return { id, dir: options.cifar10 }
  }
  const dataDir = resolveDataDir(options.dataDir)
  let listing
  try {
    listing = await listLibrary(dataDir)
  } catch (error) {
    return { reason: `the data folder's library (${dataDir}) cannot be read: ${messageOf(error)}; ${DOWNLOAD_HINT}` }
  }
  const entry = listing.datasets.find((d) => d.kind === 'cifar10' && d.available)
  if (!entry) return { reason: `no CIFAR-10 in the workbench data folder ${dataDir}; ${DOWNLOAD_HINT}` }
  return { id: entry.datasetIds[0] ?? `cifar10:${entry.location}`, dir: entry.location }
}

async function describeMachine(): Promise<NonNullable<GpuCheckReport['machine']>> {
  const memory = totalmem()
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memory,
    memoryGiB: Math.round((memory / 2 ** 30) * 10) / 10,
    platform: process.platform,
    arch: arch(),
    osRelease: release(),
    node: process.version,
    gpus: await nvidiaGpus()
  }
}

/** NVIDIA GPUs as nvidia-smi lists them ("name, driver, memory"); null without nvidia-smi. */
async function nvidiaGpus(): Promise<string[] | null> {
  try {
    const out = await runProcess('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { timeoutSeconds: 20, quiet: true })
    if (out.code !== 0) return null
    return out.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
  } catch {
    return null
  }
}

interface ProcessResult {
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/** Runs a workbench script under tsx (as the trainer's fork does) and returns its stdout; throws with why it failed. */
async function runChild(part: string, args: string[], timeoutSeconds: number): Promise<string> {
  const out = await runProcess(process.execPath, ['--import', 'tsx', ...args], { timeoutSeconds, prefix: part === 'bench' ? '' : `[${part}] ` })
  // The train command exits 130 for a cancelled run and still prints its summary.
  if (!out.timedOut && (out.code === 0 || out.code === 130) && out.stdout.trim()) return out.stdout
  const how = out.timedOut ? `timed out after ${timeoutSeconds} s` : out.signal ? `was killed by ${out.signal}` : `exited with code ${out.code}`
  const tail = out.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('Warning: max'))
    .slice(-5)
    .join(' | ')
  throw new Error(`${part} ${how}${tail ? `: ${tail}` : ''}`)
}

function runProcess(command: string, args: string[], options: { timeoutSeconds: number; prefix?: string; quiet?: boolean }): Promise<ProcessResult> {
  return new Promise((done, failed) => {
    const child = spawn(command, args, { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    let atLineStart = true
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString()
      stderr = (stderr + text).slice(-20_000)
      if (options.quiet) return
      // Progress goes on to our stderr as it comes, each line marked with the part it belongs to.
      let marked = ''
      for (const ch of text.split(/(?<=\n)/)) {
        marked += atLineStart ? `${options.prefix ?? ''}${ch}` : ch
        atLineStart = ch.endsWith('\n')
      }
      process.stderr.write(marked)
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutSeconds * 1000)
    child.on('error', (error) => {
      clearTimeout(timer)
      failed(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      done({ code, signal, stdout, stderr, timedOut })
    })
  })
}

/** The JSON report a child printed: from the first line that opens an object (anything before it is chatter). */
function parseJson<T>(stdout: string, what: string): T {
  const lines = stdout.split('\n')
  let problem: unknown = 'nothing on stdout'
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]?.startsWith('{')) continue
    try {
      return JSON.parse(lines.slice(i).join('\n')) as T
    } catch (error) {
      problem = messageOf(error)
    }
  }
  throw new Error(`${what} printed no JSON report (${String(problem)}): ${stdout.slice(0, 200)}`)
}

function progress(line: string): void {
  process.stderr.write(`gpu-check: ${line}\n`)
}

function messageOf(error: unknown): string {
  return String((error as Error)?.message ?? error)
}
