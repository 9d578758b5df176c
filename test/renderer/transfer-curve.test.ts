import { describe, expect, it } from 'vitest'
import type { RunRecord } from '../../src/shared/project'
import { spreadOf } from '../../src/shared/repeats'
import { toCsv } from '../../src/renderer/src/lib/csv'
import { curveFigure, figureChartData, figureSvg, isLegendLayer, niceTicks } from '../../src/renderer/src/lib/curve-figure'
import { applyExperimentPreset, missingClasses, parseRepeats, SEED_STUDY_PRESETS } from '../../src/renderer/src/lib/experiment-presets'
import { blankDraft, draftFromExperiment, experimentFromDraft } from '../../src/renderer/src/lib/draft'
import { curveCsvColumns, curveCsvRows, curveFromRuns, yRange } from '../../src/renderer/src/lib/transfer-curve'

// A 3-repeat sweep's records (bases A and B, AnB and BnB at n = 1 and 3; seeds 0, 1, 2) with made-up
// accuracies: val 0.20 + 0.01·seed + 0.02·n (n = 5 for bases), test 0.1 lower.
const record = (over: Partial<RunRecord>): RunRecord => {
  const val = 0.2 + 0.01 * (over.seed ?? 0) + 0.02 * (over.n ?? 5)
  return { id: `${over.kind}-${over.variant}-${over.n}-${over.to}-${over.seed}`, status: 'done', bestValAcc: val, testAcc: val - 0.1, ...over } as RunRecord
}
const runs: RunRecord[] = [0, 1, 2].flatMap((seed) => [
  record({ seed, kind: 'base', variant: null, n: null, from: null, to: 'A' }),
  record({ seed, kind: 'base', variant: null, n: null, from: null, to: 'B' }),
  ...[1, 3].flatMap((n) => [record({ seed, kind: 'transfer', variant: 'AnB', n, from: 'A', to: 'B' }), record({ seed, kind: 'transfer', variant: 'BnB', n, from: 'B', to: 'B' })])
])

describe('transfer curve with repeats', () => {
  it('gives every repeat and mean ± sample std per variant and n, the base as baseline', () => {
    const curve = curveFromRuns(runs, 'A', 'B', 'val')
    expect(curve.series.map((s) => s.variant)).toEqual(['AnB', 'BnB'])
    const anb1 = curve.series[0]!.cells[0]!
    expect(anb1.n).toBe(1)
    expect(anb1.repeats.map((r) => r.seed)).toEqual([0, 1, 2])
    expect(anb1.repeats.map((r) => r.y)).toEqual([0.22, 0.23, 0.24].map((v) => expect.closeTo(v, 12)))
    expect(anb1.mean).toBeCloseTo(0.23, 12)
    expect(anb1.std).toBeCloseTo(0.01, 12)
    expect(anb1.count).toBe(3)
    expect(curve.baseline).toMatchObject({ count: 3, mean: expect.closeTo(0.31, 12), std: expect.closeTo(0.01, 12) })
    // The test switch reads testAcc.
    expect(curveFromRuns(runs, 'A', 'B', 'test').series[0]!.cells[0]!.mean).toBeCloseTo(0.13, 12)
    // Unfinished runs do not count.
    const partial = runs.map((r) => (r.seed === 2 ? { ...r, status: 'cancelled' as const } : r))
    expect(curveFromRuns(partial, 'A', 'B', 'val').series[0]!.cells[0]!.count).toBe(2)
  })

  it('spread: one value has no std; NaN and null are left out', () => {
    expect(spreadOf([0.5])).toEqual({ mean: 0.5, std: null, count: 1 })
    expect(spreadOf([null, Number.NaN, 1, 3])).toEqual({ mean: 2, std: Math.SQRT2, count: 2 })
    expect(spreadOf([])).toEqual({ mean: null, std: null, count: 0 })
  })

  it('fits the y range to the data in 5 % steps, or shows 0–100 %', () => {
    const curve = curveFromRuns(runs, 'A', 'B', 'val')
    // Data 0.22 … 0.31 (+ std): fitted to 0.2 … 0.35, not 0 … 1.
    expect(yRange(curve, 'fit')).toEqual({ min: 0.2, max: 0.35 })
    expect(yRange(curve, 'full')).toEqual({ min: 0, max: 1 })
    expect(yRange({ ...curve, series: [], baseline: null }, 'fit')).toEqual({ min: 0, max: 1 })
  })

  it('draws bands, dots and mean lines for Chart.js from one figure', () => {
    const curve = curveFromRuns(runs, 'A', 'B', 'val')
    const figure = curveFigure(curve, { title: 'T', xLabel: 'n', yLabel: 'acc', maxN: 10, y: yRange(curve, 'fit') })
    const data = figureChartData(figure)
    const byLabel = new Map(data.datasets.map((d) => [d.label, d]))
    expect(byLabel.get('AnB repeats')!.data).toHaveLength(6)
    expect(byLabel.get('AnB repeats')!.showLine).toBe(false)
    expect(byLabel.get('AnB mean')!.data.map((p) => p.x)).toEqual([1, 3])
    expect(byLabel.get('AnB ± std')!.fill).toBe('-1')
    expect(byLabel.get('AnB ± std')!.data[0]!.y).toBeCloseTo(0.24, 12)
    expect(byLabel.get('AnB ± std (lower)')!.data[0]!.y).toBeCloseTo(0.22, 12)
    expect(byLabel.get('base B (baseline)')!.data).toEqual([{ x: 0, y: expect.closeTo(0.31, 12) }, { x: 10, y: expect.closeTo(0.31, 12) }])
    // The legend and tooltips leave out the bands, both edges of each.
    const legend = data.datasets.map((d) => d.label ?? '').filter(isLegendLayer)
    expect(legend.some((label) => label.includes('± std'))).toBe(false)
    expect(legend).toContain('AnB mean')
  })

  it('writes the curve as CSV: mean, std, count and each repeat', () => {
    const curve = curveFromRuns(runs, 'A', 'B', 'val')
    const csv = toCsv(curveCsvColumns(curve), curveCsvRows(curve)).trim().split('\n')
    expect(csv[0]).toBe('series,from,to,n,metric,mean,std,count,seed1,value1,seed2,value2,seed3,value3')
    expect(csv).toHaveLength(6) // baseline + AnB ×2 + BnB ×2
    expect(csv[1]!.startsWith('base B,,B,,val,0.31')).toBe(true)
    const anb1 = csv[2]!.split(',')
    expect(anb1.slice(0, 5)).toEqual(['AnB', 'A', 'B', '1', 'val'])
    expect(Number(anb1[5])).toBeCloseTo(0.23, 12)
    expect(Number(anb1[6])).toBeCloseTo(0.01, 12)
    expect(anb1.slice(7, 9)).toEqual(['3', '0'])
    expect(csv[4]!.split(',').slice(0, 2)).toEqual(['BnB', 'B'])
  })

  it('serializes the figure as SVG with title, axis labels, a dot per repeat and a mean line per variant', () => {
    const curve = curveFromRuns(runs, 'A', 'B', 'test')
    const figure = curveFigure(curve, { title: 'Transfer curve: A → B <test>', xLabel: 'n (layers copied)', yLabel: 'test accuracy', maxN: 10, y: yRange(curve, 'fit') })
    const svg = figureSvg(figure, { background: '#fff', text: '#000', muted: '#555', grid: '#ddd' })
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg).toContain('>Transfer curve: A → B &lt;test&gt;</text>')
    expect(svg).toContain('>n (layers copied)</text>')
    expect(svg).toContain('>test accuracy</text>')
    expect(svg.match(/<circle class="repeat"/g)).toHaveLength(12)
    expect(svg.match(/<polyline class="mean"/g)).toHaveLength(3) // AnB, BnB, the dashed baseline
    expect(svg.match(/<polygon class="band"/g)).toHaveLength(3)
    expect(svg).toContain('stroke-dasharray="6 4"')
    // Ticks are percentages within the fitted range.
    expect(svg).toMatch(/>10%<\/text>/)
    expect(svg).not.toMatch(/>100%<\/text>/)
    expect(niceTicks(0.1, 0.25, 6)).toEqual([0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25])
    // Well-formed XML (the browser test opens the downloaded file as an image too).
    expect(svg.split('<g').length).toBe(svg.split('</g>').length + 0)
  })
})

describe('designer: repeats and the seed study presets', () => {
  it('parses repeats with a message for bad input, and carries them into the experiment (absent for 1)', () => {
    expect(parseRepeats(' 3 ')).toEqual({ value: 3 })
    expect(parseRepeats('0')).toEqual({ problem: '0 is outside 1 … 20' })
    expect(parseRepeats('21')).toEqual({ problem: '21 is outside 1 … 20' })
    expect(parseRepeats('abc')).toEqual({ problem: '“abc” is not a whole number: repeats are 1 to 20' })
    expect(parseRepeats('2.5')).toMatchObject({ problem: expect.stringContaining('not a whole number') })
    const draft = { ...blankDraft('demo'), groups: { A: ['disc', 'ring'], B: ['cross', 'dots'] } }
    expect('repeats' in experimentFromDraft(draft)).toBe(false)
    const three = experimentFromDraft({ ...draft, repeats: 3 })
    expect(three.repeats).toBe(3)
    expect(draftFromExperiment(three).repeats).toBe(3)
    expect(draftFromExperiment({ ...three, repeats: undefined }).repeats).toBe(1)
  })

  it('applies the A/B halves and A1/A2/V experiments whole, where the dataset has CIFAR-10’s classes', () => {
    const cifar = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
    const [ab, similarity] = SEED_STUDY_PRESETS
    expect(missingClasses(ab!, cifar)).toEqual([])
    expect(missingClasses(similarity!, ['cat', 'dog'])).toContain('bird')
    const draft = { ...blankDraft('cifar10'), repeats: 3 }
    const a = applyExperimentPreset(draft, ab!, 'exp-new')
    expect(a).toMatchObject({ id: 'exp-new', repeats: 3, mode: 'sweep', range: { from: 1, to: 10, step: 1 }, variants: ['AnB', 'BnB'], pairs: [{ from: 'A', to: 'B' }] })
    expect(a.groups).toEqual({ A: ['cat', 'deer', 'dog', 'horse', 'ship'], B: ['airplane', 'automobile', 'bird', 'frog', 'truck'] })
    const s = applyExperimentPreset(draft, similarity!, 'exp-2')
    expect(s.pairs).toEqual([{ from: 'A1', to: 'A2' }, { from: 'V', to: 'A2' }, { from: 'A1', to: 'V' }, { from: 'V', to: 'A1' }])
    expect(Object.keys(s.groups)).toEqual(['A1', 'A2', 'V'])
    const experiment = experimentFromDraft(s)
    expect(experiment.repeats).toBe(3)
    expect(experiment.transfers.every((t) => t.variants.join() === 'AnB' && t.n.join() === '1,2,3,4,5,6,7,8,9,10')).toBe(true)
  })
})
