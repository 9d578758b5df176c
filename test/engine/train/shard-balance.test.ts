/** Shares of the batch follow the workers' measured speeds, and every batch is split whole. */
import { describe, expect, it } from 'vitest'
import { ShardBalance } from '../../../src/engine/train/parallel/shard-balance'

const sizes = (bounds: [number, number][]): number[] => bounds.map(([a, b]) => b - a)

function expectWhole(bounds: [number, number][], count: number): void {
  expect(bounds[0]?.[0]).toBe(0)
  expect(bounds.at(-1)?.[1]).toBe(count)
  for (let i = 1; i < bounds.length; i++) expect(bounds[i]?.[0]).toBe(bounds[i - 1]?.[1])
  for (const size of sizes(bounds)) expect(size).toBeGreaterThanOrEqual(1)
}

describe('ShardBalance', () => {
  it('splits equally until it has measured', () => {
    const balance = new ShardBalance(2)
    expect(sizes(balance.bounds(64))).toEqual([32, 32])
    expect(sizes(new ShardBalance(3).bounds(13))).toEqual([4, 5, 4])
  })

  it('gives a worker twice as fast twice the images, and follows a change of speed', () => {
    const balance = new ShardBalance(2)
    balance.record(0, 32, 100)
    balance.record(1, 32, 200)
    const bounds = balance.bounds(64)
    expectWhole(bounds, 64)
    expect(sizes(bounds)).toEqual([43, 21])
    // The slow core recovers: within a few steps the shares are near equal again.
    for (let step = 0; step < 8; step++) {
      const [a, b] = sizes(balance.bounds(64)) as [number, number]
      balance.record(0, a, a * 3)
      balance.record(1, b, b * 3)
    }
    const [a, b] = sizes(balance.bounds(64)) as [number, number]
    expect(Math.abs(a - b)).toBeLessThanOrEqual(4)
  })

  it('leaves every worker at least one image, however skewed, and ignores empty measurements', () => {
    const balance = new ShardBalance(3)
    balance.record(0, 10, 1)
    balance.record(1, 10, 1000)
    balance.record(2, 10, 1000)
    balance.record(2, 0, 0)
    for (const count of [3, 4, 64]) expectWhole(balance.bounds(count), count)
    expect(sizes(balance.bounds(3))).toEqual([1, 1, 1])
    // Fewer images than workers: an equal split whatever the speeds, some shares empty.
    expect(sizes(balance.bounds(2))).toEqual([0, 1, 1])
    expect(sizes(balance.bounds(1))).toEqual([0, 0, 1])
  })
})
