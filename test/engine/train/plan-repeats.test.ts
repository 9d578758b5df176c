import { describe, expect, it } from 'vitest'
import { planExperiment } from '../../../src/engine/train/plan-sweep'
import { reportCells, reportCellsCsv, reportCsv, reportRows, similarityMatrix } from '../../../src/engine/project/results'
import type { Experiment } from '../../../src/shared/project'

const experiment = (over: Partial<Experiment> = {}): Experiment => ({
  id: 'exp-1',
  name: 'A→B',
  dataset: 'demo',
  groups: { A: ['a1', 'a2'], B: ['b1', 'b2'] },
  bases: [],
  transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'BnB'], n: [1, 3] }],
  config: { width: 0.125, epochs: 2, seed: 7 },
  ...over
})

describe('planning with repeats', () => {
  it('repeat 0 keeps the single-seed ids; each repeat adds a full set with the next seed, transfers from its own repeat of the base', () => {
    const single = planExperiment(experiment())
    const three = planExperiment(experiment({ repeats: 3 }))
    expect(single).toHaveLength(6)
    expect(three).toHaveLength(18)
    // Existing projects resume: every id of the single-seed plan is still planned, with the same seed.
    const byId = new Map(three.map((r) => [r.id, r]))
    for (const run of single) expect(byId.get(run.id)?.seed, run.id).toBe(7)
    expect(new Set(three.map((r) => r.id)).size).toBe(18)
    expect(three.map((r) => r.seed).sort()).toEqual([...Array(6).fill(7), ...Array(6).fill(8), ...Array(6).fill(9)])
    // Bases first; each transfer copies from the base with its own seed.
    expect(three.slice(0, 6).every((r) => r.kind === 'base')).toBe(true)
    for (const run of three.filter((r) => r.kind === 'transfer')) {
      const source = byId.get(run.sourceRunId!)!
      expect(source.seed, run.id).toBe(run.seed)
      expect(source.config.seed).toBe(run.config.seed)
      expect(run.config.seed).toBe(run.seed)
    }
    // Ids are content hashes: planning again gives the same ones; repeats=1 is the same as no field.
    expect(planExperiment(experiment({ repeats: 3 })).map((r) => r.id)).toEqual(three.map((r) => r.id))
    expect(planExperiment(experiment({ repeats: 1 })).map((r) => r.id)).toEqual(single.map((r) => r.id))
  })

  it('refuses a repeats value that is not a whole number from 1 to 20, naming it', () => {
    for (const bad of [0, -1, 2.5, 21]) expect(() => planExperiment(experiment({ repeats: bad }))).toThrow(new RegExp(`repeats must be a whole number from 1 to 20, not ${bad}`))
  })
})

describe('report cells over repeats', () => {
  const runs = planExperiment(experiment({ repeats: 3 })).map((r) => ({ ...r, status: 'done' as const, bestValAcc: 0.5 + (r.seed - 7) / 10, testAcc: 0.4 + (r.seed - 7) / 20 }))

  it('gives one cell per base and variant × n with mean, sample std and count', () => {
    const cells = reportCells(runs)
    expect(cells.map((c) => c.cell)).toEqual(['base B', 'base A', 'AnB n=1 A→B', 'AnB n=3 A→B', 'BnB n=1 B→B', 'BnB n=3 B→B'])
    for (const c of cells) {
      expect(c.count).toBe(3)
      // 0.5, 0.6, 0.7: mean 0.6, sample std 0.1
      expect(c.bestValAccMean).toBeCloseTo(0.6, 12)
      expect(c.bestValAccStd).toBeCloseTo(0.1, 12)
      expect(c.testAccMean).toBeCloseTo(0.45, 12)
      expect(c.testAccStd).toBeCloseTo(0.05, 12)
      expect(c.seeds).toEqual([7, 8, 9])
      expect(c.runIds).toHaveLength(3)
    }
  })

  it("lists a cell's seeds in seed order whatever order the runs come in (a folder listing follows the hashed ids)", () => {
    const cells = reportCells([...runs].reverse())
    for (const c of cells) {
      expect(c.seeds).toEqual([7, 8, 9])
      expect(c.runIds.map((id) => runs.find((r) => r.id === id)?.seed)).toEqual([7, 8, 9])
    }
  })

  it('counts only finished runs; a single run has no std', () => {
    const some = runs.map((r) => (r.seed === 9 ? { ...r, status: 'cancelled' as const } : r.seed === 8 && r.kind === 'base' ? { ...r, status: 'planned' as const, bestValAcc: null } : r))
    const cells = reportCells(some)
    expect(cells.find((c) => c.cell === 'base A')).toMatchObject({ count: 1, bestValAccMean: 0.5, bestValAccStd: null })
    expect(cells.find((c) => c.cell === 'AnB n=1 A→B')!.count).toBe(2)
    expect(cells.find((c) => c.cell === 'AnB n=1 A→B')!.runIds).toHaveLength(3)
  })

  it('the similarity matrix reads the mean over repeats', () => {
    const m = similarityMatrix(runs, 3)
    expect(m.values[0]![0]).toBeCloseTo(0.6, 12)
    expect(m.baselines[0]).toBeCloseTo(0.6, 12)
  })

  it('a cell is the same config but the seed: another width is another cell, named apart', () => {
    const other = planExperiment(experiment({ config: { width: 0.25, epochs: 2, seed: 7 } })).map((r) => ({ ...r, status: 'done' as const, bestValAcc: 0.9 }))
    const cells = reportCells([...runs, ...other])
    expect(cells).toHaveLength(12)
    expect(cells.find((c) => c.cell === 'base B #2')).toMatchObject({ count: 1, bestValAccMean: 0.9 })
  })

  it('CSV per run carries seed, cell and the cell figures; --cells CSV has one line per cell', () => {
    const cells = reportCells(runs)
    const csv = reportCsv(reportRows(runs), cells).trim().split('\n')
    expect(csv[0]).toBe('id,kind,variant,from,to,n,status,bestValAcc,epochs,testAcc,seconds,seed,cell,count,bestValAccMean,bestValAccStd,testAccMean,testAccStd')
    expect(csv).toHaveLength(19)
    const anb = csv.find((l) => l.includes(',AnB n=1 A→B,'))!.split(',')
    expect(anb.slice(-5).map(Number)).toEqual([3, expect.closeTo(0.6, 12), expect.closeTo(0.1, 12), expect.closeTo(0.45, 12), expect.closeTo(0.05, 12)])
    const perCell = reportCellsCsv(cells).trim().split('\n')
    expect(perCell[0]).toBe('cell,kind,variant,from,to,n,count,bestValAccMean,bestValAccStd,testAccMean,testAccStd,seeds')
    expect(perCell).toHaveLength(7)
    expect(perCell[1]).toBe('base B,base,,,B,,3,0.6,0.1,0.45,0.05,7 8 9')
  })
})
