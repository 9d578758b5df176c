import { mkdtemp, readFile, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { appendMetrics, readMetrics, truncateMetrics } from '../../../src/engine/project/metrics-log'
import { createProject, listRuns, readProject, writeRun } from '../../../src/engine/project/project-store'
import { planExperiment } from '../../../src/engine/train/plan-sweep'
import { reportCsv, reportRows, similarityMatrix, transferCurve } from '../../../src/engine/project/results'
import type { EpochMetrics } from '../../../src/shared/metrics'

const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'wb-project-'))
const epoch = (n: number): EpochMetrics => ({ type: 'epoch', epoch: n, epochs: 3, trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc: 0.5, lr: 0.1, imagesPerSecond: 10, seconds: 1, best: true })

describe('project folder', () => {
  it('creates, reads and refuses to overwrite a project', async () => {
    const dir = await tempDir()
    await createProject(dir, 'demo study')
    expect((await readProject(dir)).name).toBe('demo study')
    await expect(createProject(dir, 'again')).rejects.toThrow(/project.json: a project already exists/)
  })

  it('names the file and the problem for unparsable or newer projects, and leaves them untouched', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'project.json'), '{"schemaVersion": 1, "name": ')
    await expect(readProject(dir)).rejects.toThrow(/project\.json: not valid JSON/)
    await writeFile(join(dir, 'project.json'), JSON.stringify({ schemaVersion: 99, name: 'x', datasets: [], experiments: [] }))
    await expect(readProject(dir)).rejects.toThrow(/schema version 99 is newer/)
    expect(JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')).schemaVersion).toBe(99)
  })

  it('lists runs from their folders', async () => {
    const dir = await tempDir()
    const runs = planExperiment({ id: 'e', name: 'e', dataset: 'demo', groups: { A: ['a', 'b'], B: ['c', 'd'] }, bases: [], transfers: [{ from: 'A', to: 'B', variants: ['AnB'], n: [1] }], config: {} })
    for (const run of runs) await writeRun(dir, run)
    expect((await listRuns(dir)).map((r) => r.id).sort()).toEqual(runs.map((r) => r.id).sort())
  })
})

describe('metrics.jsonl', () => {
  it('skips a torn last line but rejects a bad line in the middle', async () => {
    const file = join(await tempDir(), 'metrics.jsonl')
    await appendMetrics(file, epoch(1))
    await appendMetrics(file, epoch(2))
    await appendFile(file, '{"type":"epoch","epo')
    expect((await readMetrics(file)).map((r) => r.epoch)).toEqual([1, 2])
    await writeFile(file, `${JSON.stringify(epoch(1))}\nnot json\n${JSON.stringify(epoch(2))}\n`)
    await expect(readMetrics(file)).rejects.toThrow(/metrics\.jsonl: line 2/)
  })

  it('truncates to the last completed epoch, dropping later lines and the torn one', async () => {
    const file = join(await tempDir(), 'metrics.jsonl')
    for (const n of [1, 2, 3]) await appendMetrics(file, epoch(n))
    await appendFile(file, '{"tor')
    await truncateMetrics(file, 2)
    expect((await readMetrics(file)).map((r) => r.epoch)).toEqual([1, 2])
    expect(await readFile(file, 'utf8')).not.toContain('tor')
  })
})

describe('results as data', () => {
  const runs = planExperiment({
    id: 'e', name: 'e', dataset: 'demo', groups: { A: ['a', 'b'], B: ['c', 'd'] }, bases: [],
    transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'BnB'], n: [1, 2] }], config: {}
  }).map((r, i) => ({ ...r, status: 'done' as const, bestValAcc: 0.5 + i / 100 }))

  it('builds the transfer curve per variant with the baseline', () => {
    const curve = transferCurve(runs, 'A', 'B')
    expect(curve.baseline?.bestValAcc).toBe(runs.find((r) => r.kind === 'base' && r.to === 'B')!.bestValAcc)
    expect(curve.series.map((s) => s.variant)).toEqual(['AnB', 'BnB'])
    expect(curve.series[0].points.map((p) => p.n)).toEqual([1, 2])
  })

  it('builds a source × target matrix and report rows / CSV', () => {
    const m = similarityMatrix(runs, 2)
    expect(m.sources).toEqual(['A'])
    expect(m.targets).toEqual(['B'])
    expect(m.values[0][0]).toBe(runs.find((r) => r.variant === 'AnB' && r.n === 2)!.bestValAcc)
    const rows = reportRows(runs)
    expect(Object.keys(rows[0])).toEqual(expect.arrayContaining(['id', 'kind', 'variant', 'from', 'to', 'n', 'status', 'bestValAcc', 'epochs']))
    const csv = reportCsv(rows).trim().split('\n')
    expect(csv).toHaveLength(runs.length + 1)
    expect(csv[0]).toBe('id,kind,variant,from,to,n,status,bestValAcc,epochs,testAcc,seconds,seed,cell,count,bestValAccMean,bestValAccStd,testAccMean,testAccStd')
  })
})
