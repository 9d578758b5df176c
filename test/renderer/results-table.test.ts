import { describe, expect, it } from 'vitest'
import type { RunRecord } from '../../src/shared/project'
import { matrixCsv, toCsv } from '../../src/renderer/src/lib/csv'
import { EMPTY_FILTER, filterRows, RUN_CSV_COLUMNS, sortRows, toRows } from '../../src/renderer/src/lib/runs-table'
import { sweepProgress, runFraction } from '../../src/renderer/src/lib/progress'

const run = (id: string, over: Partial<RunRecord>): RunRecord =>
  ({ id, kind: 'transfer', variant: 'AnB', n: 1, from: 'A', to: 'B', seed: 0, status: 'done', epochs: 3, bestValAcc: 0.5, testAcc: null, imagesPerSecond: 200, seconds: 10, backend: 'wasm', device: 'cpu', ...over }) as RunRecord

const runs = [
  run('base-B', { kind: 'base', variant: null, n: null, from: null, bestValAcc: 0.8 }),
  run('AnB-3', { n: 3, bestValAcc: 0.6 }),
  run('AnB-1', { n: 1, bestValAcc: 0.75 }),
  run('BnB-3', { variant: 'BnB', from: 'B', n: 3, bestValAcc: null, status: 'planned' })
]

describe('runs table', () => {
  it('filters by variant (base included), n, status and words', () => {
    const rows = toRows(runs)
    expect(filterRows(rows, { ...EMPTY_FILTER, variants: ['AnB'] }).map((r) => r.id)).toEqual(['AnB-3', 'AnB-1'])
    expect(filterRows(rows, { ...EMPTY_FILTER, variants: ['base', 'BnB'] }).map((r) => r.id)).toEqual(['base-B', 'BnB-3'])
    expect(filterRows(rows, { ...EMPTY_FILTER, n: 3 }).map((r) => r.id)).toEqual(['AnB-3', 'BnB-3'])
    expect(filterRows(rows, { ...EMPTY_FILTER, status: 'planned' }).map((r) => r.id)).toEqual(['BnB-3'])
    expect(filterRows(rows, { ...EMPTY_FILTER, text: 'bnb 3' }).map((r) => r.id)).toEqual(['BnB-3'])
  })

  it('sorts by any column either way, empty values last', () => {
    const rows = toRows(runs)
    expect(sortRows(rows, 'bestValAcc', 'desc').map((r) => r.id)).toEqual(['base-B', 'AnB-1', 'AnB-3', 'BnB-3'])
    expect(sortRows(rows, 'bestValAcc', 'asc').map((r) => r.id)).toEqual(['AnB-3', 'AnB-1', 'base-B', 'BnB-3'])
    expect(sortRows(rows, 'n', 'asc').map((r) => r.id)).toEqual(['AnB-1', 'AnB-3', 'BnB-3', 'base-B'])
  })

  it('exports CSV with quoting, and matrices with their labels', () => {
    const csv = toCsv(RUN_CSV_COLUMNS, toRows([run('x,"y"', {})]))
    expect(csv.split('\n')[0]).toBe('id,kind,variant,from,to,n,status,epochs,bestValAcc,testAcc,imagesPerSecond,seconds,backend,seed')
    expect(csv.split('\n')[1]).toBe('"x,""y""",transfer,AnB,A,B,1,done,3,0.5,,200,10,wasm/cpu,0')
    expect(matrixCsv('true \\ predicted', ['cat', 'dog'], ['cat', 'dog'], [[5, 1], [null, 4]])).toBe('true \\ predicted,cat,dog\ncat,5,1\ndog,,4\n')
  })
})

describe('progress', () => {
  it('counts a run by batches and a sweep by runs, with the time left from the current run’s pace', () => {
    const p = { epoch: 2, epochs: 4, batch: 5, batchesPerEpoch: 10, loss: 1, acc: 0.5, lr: 0.1, imagesPerSecond: 100, etaSeconds: 25 }
    expect(runFraction(p)).toBeCloseTo(0.375)
    const s = sweepProgress({ state: 'running', index: 2, total: 4, currentRunId: 'r', message: '' }, p, 15)
    expect(s?.fraction).toBeCloseTo((1 + 0.375) / 4)
    // 25 s left in this run, then 2 more runs of 15 / 0.375 = 40 s each.
    expect(s?.etaSeconds).toBeCloseTo(105)
    expect(sweepProgress({ state: 'done', index: 4, total: 4, currentRunId: null, message: '' }, null, null)).toEqual({ fraction: 1, etaSeconds: null })
  })
})
