import { describe, expect, it } from 'vitest'
import type { MetricsRecord } from '../../src/shared/metrics'
import type { RunRecord } from '../../src/shared/project'
import { resolveTrainConfig } from '../../src/shared/train-config'
import { batchChartData, batchX, epochChartData, epochX, smoothEma, xAxis, lossAxis, type ChartRun, type ChartSettings } from '../../src/renderer/src/lib/monitor-charts'
import { queueOrder } from '../../src/renderer/src/lib/queue-order'
import type { AnyRunStatus } from '../../src/renderer/src/lib/runs'
import { seriesFromRecords } from '../../src/renderer/src/lib/series'
import { summarizeSweep } from '../../src/renderer/src/lib/sweep-summary'
import { estimateSpeed } from '../../src/renderer/src/lib/time-estimate'
import type { EngineBackend } from '../../src/shared/contract'

const epoch = (n: number, trainLoss: number, seconds = 10): MetricsRecord => ({ type: 'epoch', epoch: n, epochs: 2, trainLoss, trainAcc: 0.5, valLoss: trainLoss + 0.1, valAcc: 0.4, lr: 0.1, imagesPerSecond: 100, seconds, best: false })
const batch = (e: number, b: number, loss: number, imagesPerSecond = 64): MetricsRecord => ({ type: 'batch', epoch: e, batch: b, batchesPerEpoch: 4, loss, acc: 0.5, lr: 0.1, imagesPerSecond, etaSeconds: 1, logged: true })
const raw: ChartSettings = { x: 'epoch', smoothing: 0, logY: false }

function chartRun(id: string, records: MetricsRecord[], epochs = 2): ChartRun {
  return { id, label: id, series: seriesFromRecords(records), batchSize: 16, epochs }
}

describe('monitor charts', () => {
  it('smooths with a debiased EMA: weight 0 is the raw curve, the first point is never pulled to 0, a constant stays constant', () => {
    expect(smoothEma([4, 2, 8], 0)).toEqual([4, 2, 8])
    const s = smoothEma([4, 2, 8], 0.5)
    expect(s[0]).toBeCloseTo(4, 10)
    // By hand: the EMA after two points is 0.5·(0.5·4) + 0.5·2, debiased by 1 − 0.5².
    expect(s[1]).toBeCloseTo((0.5 * 0.5 * 4 + 0.5 * 2) / (1 - 0.25), 10)
    expect(smoothEma([3, 3, 3, 3], 0.9).every((v) => Math.abs(v - 3) < 1e-12)).toBe(true)
  })

  it('places batches by step, epoch or training time, and epochs at their end', () => {
    const run = chartRun('r', [batch(1, 2, 2), batch(1, 4, 1.5), epoch(1, 1.4, 10), batch(2, 2, 1.2), epoch(2, 1.1, 12)])
    const [b1, b2, b3] = run.series.batches
    expect([b1, b2, b3].map((b) => batchX(b!, 'epoch', run))).toEqual([0.5, 1, 1.5])
    expect([b1, b2, b3].map((b) => batchX(b!, 'step', run))).toEqual([2, 4, 6])
    // Time: epoch 1 took 10 s; batch 2 of epoch 2 is 2 × 16 images at 64 img/s after it.
    expect(batchX(b3!, 'time', run)).toBeCloseTo(10 + (2 * 16) / 64, 10)
    expect(batchX(b1!, 'time', run)).toBeCloseTo((2 * 16) / 64, 10)
    const [e1, e2] = run.series.epochs
    expect([epochX(e1!, 'epoch', run), epochX(e2!, 'epoch', run)]).toEqual([1, 2])
    expect([epochX(e1!, 'step', run), epochX(e2!, 'step', run)]).toEqual([4, 8])
    expect([epochX(e1!, 'time', run), epochX(e2!, 'time', run)]).toEqual([10, 22])
  })

  it('overlays several runs: each run its own validation and training line; one run shows train and val', () => {
    const a = chartRun('a', [epoch(1, 1), epoch(2, 0.8)])
    const b = chartRun('b', [epoch(1, 2)])
    expect(epochChartData([a], raw, 'loss').datasets.map((d) => d.label)).toEqual(['train loss', 'val loss'])
    const both = epochChartData([a, b], raw, 'loss')
    expect(both.datasets.map((d) => d.label)).toEqual(['a · val', 'a · train', 'b · val', 'b · train'])
    expect(both.datasets[2]?.data).toEqual([{ x: 1, y: 2.1 }])
    expect(batchChartData([a, b], raw).datasets.map((d) => d.label)).toEqual(['a', 'b'])
  })

  it('drops points a log axis cannot show and smooths what it draws', () => {
    const run = chartRun('r', [batch(1, 1, 0), batch(1, 2, 2), batch(1, 3, 1), batch(1, 4, 1)], 1)
    expect(batchChartData([run], { ...raw, logY: true }).datasets[0]?.data.map((p) => p.y)).toEqual([2, 1, 1])
    const smooth = batchChartData([run], { ...raw, smoothing: 0.5 }).datasets[0]?.data.map((p) => p.y) ?? []
    expect(smooth).toEqual(smoothEma([0, 2, 1, 1], 0.5))
    expect(smooth[3]).not.toBe(1)
    expect(lossAxis({ ...raw, logY: true })).toMatchObject({ type: 'logarithmic' })
    expect(lossAxis(raw)).toMatchObject({ type: 'linear' })
  })

  it('gives a one-epoch run an axis around its one epoch, never an empty 1–2', () => {
    const one = chartRun('r', [epoch(1, 1)], 1)
    expect(xAxis([one], raw, 'epoch')).toMatchObject({ min: 0.5, max: 1.5 })
    expect(xAxis([one], raw, 'batch')).toMatchObject({ min: 0, max: 1 })
    expect(xAxis([chartRun('r', [], 6)], raw, 'epoch')).toMatchObject({ min: 1, max: 6 })
    expect(xAxis([one], { ...raw, x: 'time' }, 'epoch')).not.toHaveProperty('min')
  })
})

describe('sweep summary', () => {
  const statuses = (done: number, rest: AnyRunStatus[]): AnyRunStatus[] => [...Array<AnyRunStatus>(done).fill('done'), ...rest]

  it('says how many runs are done and what is left, never "all runs done" beside a cancelled run', () => {
    const s = summarizeSweep(statuses(17, ['cancelled']), 'done')
    expect(s.text).toBe('17 of 18 done · 1 cancelled')
    expect(s).toMatchObject({ state: 'incomplete', action: 'continue', actionLabel: 'Continue sweep (1 to run)' })
  })

  it('offers start, continue or nothing, as the runs stand', () => {
    expect(summarizeSweep(statuses(0, ['planned', 'planned']), 'idle')).toMatchObject({ state: 'not started', action: 'start', actionLabel: 'Start sweep' })
    expect(summarizeSweep(statuses(3, []), 'done')).toMatchObject({ state: 'done', action: 'none', actionLabel: 'All runs done', text: '3 of 3 done' })
    expect(summarizeSweep(statuses(1, ['running', 'queued', 'planned']), 'running')).toMatchObject({ state: 'running', text: '1 of 4 done · 1 running · 1 queued · 1 not started' })
    // An unreadable run cannot be run: nothing to do, and not "all done" either.
    expect(summarizeSweep(statuses(2, ['unreadable']), 'idle')).toMatchObject({ action: 'none', actionLabel: 'Nothing to run', state: 'incomplete' })
    expect(summarizeSweep([], 'idle')).toMatchObject({ state: 'empty', action: 'none', text: 'no runs planned' })
  })
})

describe('queue order', () => {
  const config = resolveTrainConfig({})
  const run = (id: string, kind: 'base' | 'transfer', variant: string | null, n: number | null, to = 'B'): RunRecord =>
    ({ id, kind, variant, n, from: kind === 'base' ? null : 'A', to, config, status: 'planned' }) as unknown as RunRecord
  const runs = [run('t-bnb1', 'transfer', 'BnB', 1), run('t-anb2', 'transfer', 'AnB', 2), run('base-B', 'base', null, null), run('t-anb1', 'transfer', 'AnB', 1), run('base-A', 'base', null, null, 'A')]

  it('lays runs out as they train: finished, training now, queued by position, then the sweep order', () => {
    const status: Record<string, AnyRunStatus> = { 'base-A': 'done', 'base-B': 'done', 't-anb1': 'cancelled', 't-anb2': 'running', 't-bnb1': 'planned' }
    const items = queueOrder(runs, { statusOf: (r) => status[r.id] as AnyRunStatus, queuePositionOf: () => null, sweep: { state: 'running', currentRunId: 't-anb2' } })
    // The sweep passed t-anb1 (cancelled): held until resumed.
    expect(items.map((i) => [i.run.id, i.place, i.order])).toEqual([
      ['base-A', 'finished', null],
      ['base-B', 'finished', null],
      ['t-anb2', 'now', null],
      ['t-bnb1', 'next', 1],
      ['t-anb1', 'held', null]
    ])
    // Resumed while t-anb2 trains: queued, and it trains before the sweep's next run.
    status['t-anb1'] = 'queued'
    const queued = queueOrder(runs, { statusOf: (r) => status[r.id] as AnyRunStatus, queuePositionOf: (id) => (id === 't-anb1' ? 1 : null), sweep: { state: 'running', currentRunId: 't-anb2' } })
    expect(queued.filter((i) => i.order !== null).map((i) => i.run.id)).toEqual(['t-anb1', 't-bnb1'])
  })

  it('without a sweep, "next" is what a sweep would run, in the run order', () => {
    const items = queueOrder(runs, { statusOf: (r) => r.status, queuePositionOf: () => null, sweep: { state: 'idle', currentRunId: null } })
    expect(items.map((i) => i.run.id)).toEqual(['base-A', 'base-B', 't-anb1', 't-anb2', 't-bnb1'])
    expect(items.map((i) => i.order)).toEqual([1, 2, 3, 4, 5])
  })
})

describe('time estimate sources', () => {
  const wasm: EngineBackend = { backend: 'wasm', device: 'cpu', label: 'CPU · wasm, 2 training threads', threads: 2, attempts: [], notes: [] }
  const eighth = resolveTrainConfig({ width: 0.125, batchSize: 64 })
  const quarter = resolveTrainConfig({ width: 0.25, batchSize: 64 })

  it('prefers this project’s speeds (a running run’s live figure counts), scales other widths, and says which it used', () => {
    const same = estimateSpeed(eighth, wasm, [{ config: eighth, imagesPerSecond: 120 }])
    expect(same).toMatchObject({ source: 'measured', imagesPerSecond: 120, label: 'measured in this project' })
    const scaled = estimateSpeed(eighth, wasm, [{ config: quarter, imagesPerSecond: 100 }, { config: quarter, imagesPerSecond: null }])
    expect(scaled.source).toBe('scaled')
    expect(scaled.label).toBe("scaled from this project's runs")
    // Width ¼ → ⅛ is half the width: faster by 2^1.5 under the cost model.
    expect(scaled.imagesPerSecond).toBeCloseTo(100 * 2 ** 1.5, 6)
    expect(scaled.detail).toMatch(/width 0.25, scaled to width 0.125/)
    const bench = estimateSpeed(eighth, wasm, [{ config: quarter, imagesPerSecond: null }])
    expect(bench).toMatchObject({ source: 'benchmark', label: 'benchmark' })
    // The benchmark's figure is far from what the project measured: the measured one wins.
    expect(Math.abs(bench.imagesPerSecond - same.imagesPerSecond)).toBeGreaterThan(200)
  })
})

describe('run series after a resume', () => {
  it('keeps the last attempt of a batch the resumed run trained again', () => {
    const s = seriesFromRecords([batch(1, 1, 3), batch(1, 2, 2.5), batch(1, 1, 2.9), batch(1, 2, 2.4), batch(1, 3, 2.2)])
    expect(s.batches.map((b) => [b.step, b.loss])).toEqual([
      [1, 2.9],
      [2, 2.4],
      [3, 2.2]
    ])
  })
})
