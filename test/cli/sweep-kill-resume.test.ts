import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readMetrics } from '../../src/engine/project/metrics-log'
import { listRuns } from '../../src/engine/project/project-store'
import { createRandom } from '../../src/engine/random'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/index.ts')]
const env = { ...process.env, WORKBENCH_BACKEND: 'wasm' }

/** Bytes of every run's metrics.jsonl in the project: they grow while a run trains. */
async function metricsBytes(project: string): Promise<number> {
  const runs = await readdir(join(project, 'runs')).catch(() => [] as string[])
  const sizes = await Promise.all(runs.map((id) => stat(join(project, 'runs', id, 'metrics.jsonl')).then((s) => s.size, () => 0)))
  return sizes.reduce((a, b) => a + b, 0)
}

/**
 * Runs the CLI. With `kill`, sends SIGKILL `afterTrainingMs` after the process has started training
 * (its metrics grow): process start-up (tsx + tfjs) takes 4 s on an idle machine and over 7 s
 * under the test suite's load, so a kill timed from the spawn often landed before any run began.
 * Resolves with exit code / signal.
 */
function cli(args: string[], kill?: { project: string; afterTrainingMs: number }): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    void (kill ? metricsBytes(kill.project) : Promise.resolve(0)).then((before) => {
      const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'ignore'] })
      let stdout = ''
      let exited = false
      let timer: NodeJS.Timeout | undefined
      child.stdout.on('data', (d) => (stdout += d))
      if (kill) {
        const started = Date.now()
        const poll = async (): Promise<void> => {
          if (exited) return
          // Give up waiting after a minute: the kill then lands wherever the process is.
          if ((await metricsBytes(kill.project)) > before || Date.now() - started > 60_000) timer = setTimeout(() => child.kill('SIGKILL'), kill.afterTrainingMs)
          else setTimeout(() => void poll(), 100)
        }
        void poll()
      }
      child.on('error', reject)
      child.on('exit', (code, signal) => {
        exited = true
        clearTimeout(timer)
        // Give the orphaned trainer a moment to notice its parent is gone and exit.
        setTimeout(() => resolve({ code, signal, stdout }), 300)
      })
    }, reject)
  })
}

describe('sweep survives kill -9', () => {
  it('five kills at random moments, each followed by resume: nothing lost or duplicated', async () => {
    const project = await mkdtemp(join(tmpdir(), 'wb-kill-'))
    const sweep = ['sweep', '--project', project, '--dataset', 'demo', '--group', 'A=0,1,2', '--group', 'B=3,4,5', '--transfer', 'A:B',
      '--variants', 'AnB,BnB', '--n', '1,3', '--width', '0.0625', '--epochs', '4', '--batch-size', '16', '--train-per-class', '96', '--lr', '0.05']
    const random = createRandom(2024)
    let killedMidRun = 0
    const summary: string[] = []
    for (let attempt = 0; attempt < 5; attempt++) {
      // Kill somewhere in the first few seconds of training.
      const result = await cli(attempt === 0 ? sweep : ['resume', '--project', project], { project, afterTrainingMs: random.int(4000) })
      if (result.signal === 'SIGKILL') {
        const runs = await listRuns(project)
        if (runs.some((r) => r.status === 'running')) killedMidRun++
        summary.push(`kill ${attempt + 1}: ${runs.filter((r) => r.status === 'done').length}/${runs.length} done, running: ${runs.filter((r) => r.status === 'running').map((r) => `${r.id.split('-').slice(0, 4).join('-')}@epoch ${r.epochs}`).join(', ') || '-'}`)
      } else summary.push(`attempt ${attempt + 1}: finished before the kill`)
    }
    console.log(summary.join('\n'))
    expect(killedMidRun).toBeGreaterThan(0)
    const final = await cli(['resume', '--project', project, '--json'])
    expect(final.code).toBe(0)
    const report = JSON.parse(final.stdout) as { runs: { kind: string; status: string; id: string }[] }
    expect(report.runs.filter((r) => r.kind === 'base')).toHaveLength(2)
    expect(report.runs.filter((r) => r.kind === 'transfer')).toHaveLength(4)
    expect(report.runs.every((r) => r.status === 'done')).toBe(true)

    for (const run of await listRuns(project)) {
      const dir = join(project, 'runs', run.id)
      const metrics = await readMetrics(join(dir, 'metrics.jsonl'))
      const epochs = metrics.filter((m) => m.type === 'epoch').map((m) => m.epoch)
      expect(epochs, run.id).toEqual([1, 2, 3, 4])
      const batchKeys = metrics.filter((m) => m.type === 'batch').map((m) => `${m.epoch}:${m.type === 'batch' ? m.batch : 0}`)
      expect(new Set(batchKeys).size, `${run.id} batch lines`).toBe(batchKeys.length)
      // run.json, the metrics and the best checkpoint agree on the best epoch.
      const best = metrics.filter((m) => m.type === 'epoch').reduce((a, b) => ((b.valAcc ?? -1) > (a.valAcc ?? -1) ? b : a))
      expect(run.bestEpoch).toBe(best.epoch)
      const bestMeta = JSON.parse(await readFile(join(dir, 'best', 'workbench.json'), 'utf8'))
      expect(bestMeta.epoch, `${run.id} best/`).toBe(best.epoch)
    }
  }, 300_000)
})
