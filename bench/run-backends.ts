/**
 * Benchmarks several backends, each in a child process: a process picks its tfjs backend once, so the
 * only way to time another is to start this same bench script with that backend forced
 * (`WORKBENCH_BACKEND` and `--backend NAME --json`) and collect the JSON it prints. A child that cannot
 * start its backend reports why; one that dies or hangs is recorded as failed; none stops the rest.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { BackendName } from '../src/shared/backend'
import { benchFromChild, type BackendBench } from './side-by-side'

const SCRIPT = fileURLToPath(new URL('./train-speed.ts', import.meta.url))

export interface ChildBenchOptions {
  widths: number[]
  batchSize: number
  minSeconds: number
  warmupSeconds: number
  workers?: number
  /** Kill a child after this many seconds (a hung GPU driver must not hang the bench). */
  timeoutSeconds: number
  /** Where each child's stderr (progress) goes, line by line, prefixed with its backend. */
  log: (line: string) => void
}

/** Runs the bench for each backend in turn, one child process each (never two at once: they would compete). */
export async function benchInChildren(backends: readonly BackendName[], options: ChildBenchOptions): Promise<BackendBench[]> {
  const out: BackendBench[] = []
  for (const backend of backends) {
    options.log(`[${backend}] starting`)
    const started = performance.now()
    const bench = await benchOneChild(backend, options)
    bench.seconds ??= round((performance.now() - started) / 1000)
    options.log(`[${backend}] ${bench.status}${bench.reason ? `: ${bench.reason}` : ''}`)
    out.push(bench)
  }
  return out
}

function benchOneChild(backend: BackendName, options: ChildBenchOptions): Promise<BackendBench> {
  const args = ['--backend', backend, '--json', '--no-memory-check', '--no-pytorch', '--widths', options.widths.join(','), '--batch-size', String(options.batchSize), '--min-seconds', String(options.minSeconds), '--warmup-seconds', String(options.warmupSeconds)]
  if (options.workers !== undefined) args.push('--workers', String(options.workers))
  return new Promise((resolve) => {
    let child
    try {
      child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
        stdio: ['ignore', 'pipe', 'pipe']
      })
    } catch (error) {
      resolve({ backend, status: 'failed', reason: `could not start its bench process: ${(error as Error).message}`, results: [], notes: [] })
      return
    }
    let stdout = ''
    let stderr = ''
    let pending = ''
    let timedOut: number | undefined
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString()
      stderr = (stderr + text).slice(-20_000)
      pending += text
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) if (line.trim()) options.log(`[${backend}] ${line}`)
    })
    const timer = setTimeout(() => {
      timedOut = options.timeoutSeconds
      child.kill('SIGKILL')
    }, options.timeoutSeconds * 1000)
    let settled = false
    const finish = (code: number | null, signal: string | null, spawnError?: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (pending.trim()) options.log(`[${backend}] ${pending}`)
      if (spawnError) {
        resolve({ backend, status: 'failed', reason: `could not start its bench process: ${spawnError.message}`, results: [], notes: [] })
        return
      }
      resolve(benchFromChild(backend, { stdout, stderr, code, signal, timedOut }))
    }
    child.on('error', (error) => finish(null, null, error))
    child.on('close', (code, signal) => finish(code, signal))
  })
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
