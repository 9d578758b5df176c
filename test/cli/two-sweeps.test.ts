import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readMetrics } from '../../src/engine/project/metrics-log'
import { listRuns } from '../../src/engine/project/project-store'
import { removeDir } from '../helpers/dataset-fixtures'
import { runCli } from '../helpers/run-cli'

let project: string | undefined
afterAll(() => removeDir(project))

describe('two sweeps on one project at once', () => {
  it('every run is trained once, each epoch once in metrics.jsonl; the second sweep says what it left to the first', async () => {
    project = await mkdtemp(join(tmpdir(), 'wb-two-sweeps-'))
    // Two bases and two transfers (one from each base), 1 epoch each.
    const sweep = ['sweep', '--project', project, '--dataset', 'demo', '--group', 'A=0,1,2', '--group', 'B=3,4,5', '--transfer', 'A:B',
      '--variants', 'AnB,BnB', '--n', '1', '--width', '0.125', '--epochs', '1', '--batch-size', '16', '--train-per-class', '96', '--json']
    const env = { WORKBENCH_BACKEND: 'wasm' }
    const started = Date.now()
    const [first, second] = await Promise.all([runCli(sweep, { env }), runCli(sweep, { env })])
    console.log(`two sweeps at once: ${((Date.now() - started) / 1000).toFixed(1)} s`)

    expect(first.code, first.stderr).toBe(0)
    expect(second.code, second.stderr).toBe(0)
    const runs = await listRuns(project)
    expect(runs).toHaveLength(4)
    expect(runs.every((r) => r.status === 'done')).toBe(true)
    // Both end with the whole project done: the one that finished its part first waited for the other's.
    for (const out of [first, second]) {
      const report = JSON.parse(out.stdout) as { runs: { status: string }[] }
      expect(report.runs.map((r) => r.status)).toEqual(['done', 'done', 'done', 'done'])
    }
    // Each training ends its epoch with one "epoch 1/1" line: four runs, four trainings in all.
    const trainings = (first.stderr + second.stderr).match(/^epoch 1\/1 /gm) ?? []
    expect(trainings, `${first.stderr}\n----\n${second.stderr}`).toHaveLength(4)
    for (const run of runs) {
      const metrics = await readMetrics(join(project, 'runs', run.id, 'metrics.jsonl'))
      expect(metrics.filter((m) => m.type === 'epoch').map((m) => m.epoch), run.id).toEqual([1])
      const batches = metrics.filter((m) => m.type === 'batch').map((m) => `${m.epoch}:${m.type === 'batch' ? m.batch : 0}`)
      expect(new Set(batches).size, `${run.id} batch lines`).toBe(batches.length)
    }
    // The two started together, so one met a run the other was training and said so.
    expect(first.stderr + second.stderr).toMatch(/being trained by another process \(training run \S+ by pid \d+/)
  }, 300_000)
})
