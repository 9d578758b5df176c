/**
 * The PyTorch reference for `npm run bench`: the same VGG11-BN step timed by bench/pytorch_vgg11.py on
 * the CPU, when `import torch` works. Run once per bench, whatever the number of backends.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { PyTorchReference, PyTorchRun } from './side-by-side'
import { VGG_CFGS } from '../src/shared/vgg'

/** $PYTHON first, then the PATH's python3, then the system one (Debian's python3-torch lives there). */
function pythonCandidates(): string[] {
  return [process.env['PYTHON'], 'python3', '/usr/bin/python3'].filter((p): p is string => Boolean(p))
}

/**
 * Times the step in PyTorch: with its own thread choice first (Debian's build picks 1 here), then one
 * thread per core, as a user who calls torch.set_num_threads would run it (skipped when the same).
 * Both are fair comparisons. `onRun` sees each run as it finishes.
 */
export function runPyTorch(options: { widths: number[]; batchSize: number; minSeconds: number; warmupSeconds: number; onRun?: (run: PyTorchRun, isDefault: boolean) => void }): PyTorchReference {
  const candidates = pythonCandidates()
  const python = candidates.find((p) => {
    try {
      execFileSync(p, ['-c', 'import torch'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })
  if (!python) return { available: false, reason: `PyTorch not importable (tried ${candidates.join(', ')}): no reference ratio.` }
  const script = fileURLToPath(new URL('./pytorch_vgg11.py', import.meta.url))
  const runs: PyTorchRun[] = []
  try {
    for (const threads of [0, availableParallelism()]) {
      if (threads !== 0 && threads === runs[0]?.threads) break
      const args = [script, '--json', '--cfg', JSON.stringify(VGG_CFGS.vgg11), '--widths', options.widths.join(','), '--batch-size', String(options.batchSize), '--min-seconds', String(options.minSeconds), '--warmup-seconds', String(options.warmupSeconds), '--threads', String(threads)]
      const run = JSON.parse(execFileSync(python, args, { encoding: 'utf8' })) as PyTorchRun
      runs.push({ threads: run.threads, results: run.results.map((r) => ({ width: r.width, trainImagesPerSecond: r.trainImagesPerSecond, inferImagesPerSecond: r.inferImagesPerSecond })) })
      options.onRun?.(runs[runs.length - 1] as PyTorchRun, threads === 0)
    }
  } catch (error) {
    if (runs.length === 0) return { available: false, reason: `PyTorch is importable with ${python}, but bench/pytorch_vgg11.py failed: ${String((error as Error).message).split('\n')[0]}` }
  }
  return { available: true, python, runs }
}
