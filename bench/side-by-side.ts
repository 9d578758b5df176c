/**
 * The pieces of `npm run bench -- --backend …` that need no tfjs: which backends a `--backend` value
 * names, the shape of each backend's figures, how a child bench's output becomes that shape, and the
 * side-by-side tables. Kept apart from train-speed.ts so tests can check them without timing anything.
 */
import { BACKEND_NAMES, type BackendName, type GpuAdapterInfo, type WasmKernelSet } from '../src/shared/backend'

/** What `--backend all` runs: every backend that can train (cpu only when named: far too slow). */
export const ALL_BACKENDS: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm']

/** Printed next to any figure measured on a software GPU adapter (SwiftShader, lavapipe/llvmpipe). */
export const SOFTWARE_NOTE = 'software driver: correctness only, not a GPU speed'

/**
 * What a `--backend` value asks for: nothing (the engine's own choice, in this process, as always),
 * one backend (forced in this process), or several (`all`, or a comma list): each in a child process,
 * since a process picks its backend once.
 */
export type BackendChoice = { mode: 'default' } | { mode: 'single'; backend: BackendName } | { mode: 'many'; backends: BackendName[] }

/** Parses `--backend`: undefined, `all`, one name, or a comma-separated list of names. */
export function parseBackendChoice(value: string | undefined): BackendChoice {
  if (value === undefined) return { mode: 'default' }
  const trimmed = value.trim()
  if (trimmed === 'all') return { mode: 'many', backends: [...ALL_BACKENDS] }
  const names = trimmed.split(',').map((s) => s.trim()).filter(Boolean)
  if (names.length === 0) throw new Error(`--backend: '${value}' names no backend; use all, or one or more of ${BACKEND_NAMES.join(', ')}`)
  for (const name of names) {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw new Error(`--backend: '${name}' is not a backend; use all, or one or more of ${BACKEND_NAMES.join(', ')}`)
  }
  const unique = [...new Set(names)] as BackendName[]
  return unique.length === 1 ? { mode: 'single', backend: unique[0] as BackendName } : { mode: 'many', backends: unique }
}

/** One width's figures on one backend; a figure is null when that width failed (see `error`). */
export interface WidthFigures {
  arch: 'vgg11_bn'
  width: number
  trainImagesPerSecond: number | null
  inferImagesPerSecond: number | null
  /** How many timed steps (batches) each figure is from, after the warm-up. */
  trainSteps: number
  inferSteps: number
  error?: string
}

/**
 * One backend's benchmark. `ok`: it started and every width was timed (a width may still carry an
 * error); `unavailable`: it cannot start here (`reason` says why: not installed, no adapter…);
 * `failed`: it started, then its process died, timed out or threw (`reason`; results so far kept).
 */
export interface BackendBench {
  backend: BackendName
  status: 'ok' | 'unavailable' | 'failed'
  reason?: string
  /** As doctor says it, e.g. "GPU · webgpu (NVIDIA GeForce RTX 4090)". */
  label?: string
  device?: 'gpu' | 'cpu'
  adapter?: GpuAdapterInfo
  /** The adapter is a software one: the figures say nothing about a GPU's speed. */
  software?: boolean
  /** Training threads (data-parallel workers on the CPU backends). */
  threads?: number
  batchSize?: number
  results: WidthFigures[]
  notes: string[]
  /** Wall time of this backend's whole benchmark, start-up included. */
  seconds?: number
  /** wasm: which of the workbench's kernels ran ("simd+fma", "simd", "off"). */
  kernels?: WasmKernelSet
  /** Peak resident memory of the process, worker threads included, in GiB (not on webgpu). */
  peakRssGB?: number
  /** Whether that peak includes the width-1, batch-128 memory steps (not with --no-memory-check). */
  memoryChecked?: boolean
}

/** One PyTorch timing of the same step (bench/pytorch_vgg11.py): CPU, `threads` threads. */
export interface PyTorchRun {
  threads: number
  results: { width: number; trainImagesPerSecond: number; inferImagesPerSecond: number }[]
}

export type PyTorchReference = { available: true; python: string; runs: PyTorchRun[] } | { available: false; reason: string }

/** `bench --backend all --json`: every backend's figures side by side, and PyTorch once. */
export interface SideBySideReport {
  arch: 'vgg11_bn'
  batchSize: number
  widths: number[]
  /** Each figure runs at least this long after its warm-up (and at least one step). */
  minSeconds: number
  /** Untimed steps before each figure, for at least this long (at least one step). */
  warmupSeconds: number
  backends: BackendBench[]
  /** null when not asked for (--no-pytorch). */
  pytorch: PyTorchReference | null
}

/**
 * Turns a child bench's exit into its BackendBench: the JSON it printed if there is any (the child
 * prints one even when its backend cannot start), else a failure naming the exit and its last words.
 */
export function benchFromChild(backend: BackendName, out: { stdout: string; code: number | null; signal: string | null; stderr: string; timedOut?: number }): BackendBench {
  const parsed = lastJsonObject(out.stdout) as Partial<BackendBench> | undefined
  const how = out.timedOut !== undefined ? `timed out after ${out.timedOut} s and was killed` : out.signal ? `was killed by ${out.signal}` : `exited with code ${out.code}`
  if (parsed && parsed.backend === backend && (parsed.status === 'ok' || parsed.status === 'unavailable' || parsed.status === 'failed')) {
    const bench: BackendBench = { ...parsed, backend, status: parsed.status, results: parsed.results ?? [], notes: parsed.notes ?? [] }
    // A child that printed "ok" and then died (a native crash while exiting) still measured everything.
    if (out.timedOut !== undefined && bench.status === 'ok') return { ...bench, status: 'failed', reason: `its bench process ${how}` }
    return bench
  }
  const tail = lastLines(out.stderr, 4)
  return { backend, status: 'failed', reason: `its bench process ${how} before reporting${tail ? `: ${tail}` : ''}`, results: [], notes: [] }
}

/** The last line of `text` that starts a JSON object, parsed with everything after it; undefined if none parses. */
function lastJsonObject(text: string): unknown {
  const lines = text.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]?.startsWith('{')) continue
    try {
      return JSON.parse(lines.slice(i).join('\n'))
    } catch {
      // Not the start of the report: keep looking upwards.
    }
  }
  return undefined
}

function lastLines(text: string, count: number): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Warning: max\w+ artificially reduced/.test(l))
  return lines.slice(-count).join(' | ')
}

/** A figure with the number of steps it is from: "31.4 (12)"; "failed" or "–" without one. */
function cell(value: number | null | undefined, steps: number | undefined, failed: boolean): string {
  if (value === null || value === undefined) return failed ? 'failed' : '–'
  return `${value} (${steps ?? '?'})`
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)))
  const line = (cells: string[]): string => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c] as number) : s.padStart(widths[c] as number))).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)]
}

/** A backend's column heading: its name, with a mark when its figures come from a software adapter. */
function heading(bench: BackendBench): string {
  return bench.software ? `${bench.backend} (software)*` : bench.backend
}

/**
 * The side-by-side report as lines: training and inference images per second, one row per width, one
 * column per backend that ran (steps timed in brackets) and PyTorch's CPU figures; then every backend
 * with its label and adapter, or why it did not run.
 */
export function formatSideBySide(report: SideBySideReport): string[] {
  const ran = report.backends.filter((b) => b.results.length > 0)
  const torchRuns = report.pytorch?.available ? report.pytorch.runs : []
  const lines = [`VGG11-BN, batch ${report.batchSize}, 32×32×3: images per second (timed steps in brackets; each figure ≥ ${report.minSeconds} s after a warm-up of ≥ ${report.warmupSeconds} s, at least 1 step)`]
  for (const [title, key, stepsKey] of [
    ['training', 'trainImagesPerSecond', 'trainSteps'],
    ['inference', 'inferImagesPerSecond', 'inferSteps']
  ] as const) {
    if (ran.length === 0 && torchRuns.length === 0) break
    const header = ['width', ...ran.map(heading), ...torchRuns.map((r) => `PyTorch CPU ${r.threads}t`)]
    const rows = report.widths.map((width) => [
      String(width),
      ...ran.map((b) => {
        const r = b.results.find((x) => x.width === width)
        return cell(r?.[key], r?.[stepsKey], r?.error !== undefined || (r === undefined && b.status === 'failed'))
      }),
      ...torchRuns.map((t) => {
        const value = t.results.find((x) => x.width === width)?.[key]
        return value === undefined ? '–' : String(value)
      })
    ])
    lines.push('', `${title}:`, ...table(header, rows))
  }
  if (ran.some((b) => b.software)) lines.push('', `* ${SOFTWARE_NOTE}.`)
  lines.push('', 'backends:')
  for (const b of report.backends) {
    const name = b.backend.padEnd(10)
    if (b.status === 'unavailable') {
      lines.push(`  ✗ ${name} not available: ${b.reason ?? 'no reason given'}`)
      continue
    }
    const mark = b.status === 'ok' ? '✓' : '!'
    const time = b.seconds !== undefined ? ` · ${Math.round(b.seconds)} s` : ''
    lines.push(`  ${mark} ${name} ${b.label ?? b.backend}${time}`)
    if (b.adapter) lines.push(`    adapter: ${b.adapter.description}${b.adapter.vendor ? ` (vendor ${b.adapter.vendor})` : ''}${b.software ? ` · ${SOFTWARE_NOTE}` : ''}`)
    if (b.status === 'failed') lines.push(`    failed: ${b.reason ?? 'no reason given'}`)
    for (const r of b.results) if (r.error) lines.push(`    width ${r.width} failed: ${r.error}`)
    for (const note of b.notes) lines.push(`    note: ${note}`)
  }
  if (report.pytorch && !report.pytorch.available) lines.push('', `PyTorch: ${report.pytorch.reason}`)
  else if (report.pytorch?.available) lines.push('', `PyTorch: ${report.pytorch.python}, CPU only (bench/pytorch_vgg11.py), figures without step counts.`)
  return lines
}
