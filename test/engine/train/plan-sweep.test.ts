import { describe, expect, it } from 'vitest'
import { planExperiment, validateExperiment } from '../../../src/engine/train/plan-sweep'
import type { Experiment } from '../../../src/shared/project'

const experiment = (over: Partial<Experiment> = {}): Experiment => ({
  id: 'exp-1',
  name: 'A→B',
  dataset: 'demo',
  groups: { A: ['a1', 'a2'], B: ['b1', 'b2'], C: ['c1', 'c2'] },
  bases: [],
  transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'BnB', 'AnB+', 'BnB+'], n: [1, 5, 10] }],
  config: { width: 0.125, epochs: 2 },
  ...over
})

describe('sweep planning', () => {
  it('plans 2 bases and 12 transfers for A:B × 4 variants × 3 depths, bases first', () => {
    const runs = planExperiment(experiment())
    expect(runs.filter((r) => r.kind === 'base').map((r) => r.to)).toEqual(['B', 'A'])
    expect(runs.slice(0, 2).every((r) => r.kind === 'base')).toBe(true)
    const transfers = runs.filter((r) => r.kind === 'transfer')
    expect(transfers).toHaveLength(12)
    const baseA = runs.find((r) => r.kind === 'base' && r.to === 'A')!
    const baseB = runs.find((r) => r.kind === 'base' && r.to === 'B')!
    // AnB copies from A's base; the BnB controls from B's own; every transfer trains on B's classes.
    expect(transfers.filter((r) => r.variant?.startsWith('A')).every((r) => r.sourceRunId === baseA.id && r.from === 'A')).toBe(true)
    expect(transfers.filter((r) => r.variant?.startsWith('B')).every((r) => r.sourceRunId === baseB.id && r.from === 'B')).toBe(true)
    expect(transfers.every((r) => r.to === 'B' && r.classes.join() === 'b1,b2' && r.status === 'planned')).toBe(true)
    expect(new Set(runs.map((r) => r.id)).size).toBe(14)
  })

  it('is deterministic and never plans the same run twice (BnB shared by A:B and C:B)', () => {
    const twoJobs = experiment({
      transfers: [
        { from: 'A', to: 'B', variants: ['AnB', 'BnB'], n: [1, 2] },
        { from: 'C', to: 'B', variants: ['AnB', 'BnB'], n: [1, 2] }
      ]
    })
    const runs = planExperiment(twoJobs)
    expect(runs.filter((r) => r.variant === 'BnB')).toHaveLength(2)
    expect(runs.filter((r) => r.variant === 'AnB')).toHaveLength(4)
    expect(runs.filter((r) => r.kind === 'base')).toHaveLength(3)
    expect(planExperiment(twoJobs).map((r) => r.id)).toEqual(runs.map((r) => r.id))
    // A different config is a different run.
    const other = planExperiment({ ...twoJobs, config: { width: 0.25, epochs: 2 } })
    expect(other.map((r) => r.id)).not.toContain(runs[0].id)
  })

  it('checks groups, variants and depths, naming what is wrong; warns on overlapping groups', () => {
    expect(() => planExperiment(experiment({ transfers: [{ from: 'A', to: 'X', variants: ['AnB'], n: [1] }] }))).toThrow(/target group 'X' is not defined/)
    expect(() => planExperiment(experiment({ transfers: [{ from: 'A', to: 'B', variants: ['AnC' as never], n: [1] }] }))).toThrow(/variant 'AnC'/)
    expect(() => planExperiment(experiment({ transfers: [{ from: 'A', to: 'B', variants: ['AnB'], n: [11] }] }))).toThrow(/n=11 is outside 0 … 10/)
    expect(() => planExperiment(experiment({ groups: { 'A-1': ['x', 'y'] }, transfers: [] }))).toThrow(/group 'A-1'/)
    const warnings = validateExperiment(experiment({ groups: { A: ['a1', 'b1'], B: ['b1', 'b2'] } }))
    expect(warnings[0]).toMatch(/share b1/)
  })
})
