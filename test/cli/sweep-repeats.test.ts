import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { listRuns, readProject } from '../../src/engine/project/project-store'
import { removeDir } from '../helpers/dataset-fixtures'
import { runCli } from '../helpers/run-cli'

let project: string | undefined
afterAll(() => removeDir(project))

const env = { WORKBENCH_BACKEND: 'wasm' }

describe('cli sweep --repeats', () => {
  it('trains every cell 3 times with seeds 0, 1, 2; report --csv gives each cell mean, std and count 3', async () => {
    project = await mkdtemp(join(tmpdir(), 'wb-repeats-'))
    // 2 bases + AnB at n = 1 and 2: 4 cells × 3 repeats, 1 epoch each at width 1/8 on a few demo images.
    const sweep = ['sweep', '--project', project, '--dataset', 'demo', '--group', 'A=0,1,2', '--group', 'B=3,4,5', '--transfer', 'A:B',
      '--variants', 'AnB', '--n', '1,2', '--repeats', '3', '--width', '0.125', '--epochs', '1', '--batch-size', '16', '--train-per-class', '48', '--json']
    const started = Date.now()
    const out = await runCli(sweep, { env })
    console.log(`sweep --repeats 3 (12 runs): ${((Date.now() - started) / 1000).toFixed(1)} s`)
    expect(out.code, out.stderr).toBe(0)
    const runs = await listRuns(project)
    expect(runs).toHaveLength(12)
    expect(runs.every((r) => r.status === 'done' && r.testAcc !== null)).toBe(true)
    expect(runs.map((r) => r.seed).sort()).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    expect((await readProject(project)).experiments[0]?.repeats).toBe(3)
    const json = JSON.parse(out.stdout) as { runs: unknown[]; cells: { cell: string; count: number }[] }
    expect(json.runs).toHaveLength(12)
    expect(json.cells.map((c) => `${c.cell}:${c.count}`).sort()).toEqual(['AnB n=1 A→B:3', 'AnB n=2 A→B:3', 'base A:3', 'base B:3'])

    const csv = await runCli(['report', '--project', project, '--csv', '--cells'])
    expect(csv.code, csv.stderr).toBe(0)
    const [header, ...lines] = csv.stdout.trim().split('\n')
    expect(header).toBe('cell,kind,variant,from,to,n,count,bestValAccMean,bestValAccStd,testAccMean,testAccStd,seeds')
    expect(lines).toHaveLength(4)
    for (const line of lines) {
      const cols = line.split(',')
      const cellRuns = runs.filter((r) => (r.kind === 'base' ? `base ${r.to}` : `${r.variant} n=${r.n} ${r.from}→${r.to}`) === cols[0])
      expect(cellRuns, line).toHaveLength(3)
      const accs = cellRuns.map((r) => r.bestValAcc as number)
      const mean = accs.reduce((a, b) => a + b, 0) / 3
      const std = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / 2)
      expect(Number(cols[6]), line).toBe(3)
      expect(Number(cols[7]), line).toBeCloseTo(mean, 5)
      expect(Number(cols[8]), line).toBeCloseTo(std, 5)
      expect(cols[9], line).not.toBe('')
      expect(cols[11]).toBe('0 1 2')
    }

    // The per-run CSV keeps its columns and adds seed, cell and the cell's figures.
    const perRun = await runCli(['report', '--project', project, '--csv'])
    const rows = perRun.stdout.trim().split('\n')
    expect(rows[0]).toMatch(/^id,kind,variant,from,to,n,status,bestValAcc,epochs,testAcc,seconds,seed,cell,count,bestValAccMean,bestValAccStd,testAccMean,testAccStd$/)
    expect(rows.slice(1).every((l) => l.split(',')[13] === '3')).toBe(true)

    // Asking for a nonsense repeat count names the flag and the range, before anything runs.
    const bad = await runCli([...sweep.slice(0, -1).map((a) => (a === '3' ? '0' : a))], { env })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--repeats 0: repeats must be a whole number from 1 to 20/)
  }, 400_000)
})
