import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadStudyImages } from '../../../src/engine/features/study-data'
import { makeTempDir, removeDir, writeSolidImage } from '../../helpers/dataset-fixtures'

// The study's test set (issue 21): every test image of the classes unless a cap is asked for.
let dir: string
beforeAll(async () => {
  // One split only: class folders without train/ and test/, six images each.
  dir = await makeTempDir('study-data')
  for (const [c, name] of ['red', 'blue'].entries()) {
    for (let i = 0; i < 6; i++) await writeSolidImage(join(dir, name, `${i}.png`), 8, 8, [c * 200, 40 + i * 10, 255 - c * 200])
  }
})
afterAll(() => removeDir(dir))

const perClass = (labels: Int32Array, indices: Int32Array): number[] => [0, 1].map((c) => [...indices].filter((i) => labels[i] === c).length)

describe('study images', () => {
  it('with a test split: every test image by default, or the first N per class', async () => {
    const all = await loadStudyImages('demo', { classes: ['disc', 'ring'], poolPerClass: 8, testPerClass: null, seed: 1, imageSize: 32 })
    expect(all.pool.indices).toHaveLength(16)
    expect(perClass(all.test.set.labels, all.test.indices)).toEqual([100, 100]) // the demo's whole test split
    const capped = await loadStudyImages('demo', { classes: ['disc', 'ring'], poolPerClass: 8, testPerClass: 5, seed: 1, imageSize: 32 })
    expect(perClass(capped.test.set.labels, capped.test.indices)).toEqual([5, 5])
  })

  it('with one split: every image not in the pool is held out by default, never shared with the pool', async () => {
    const all = await loadStudyImages(`folder:${dir}`, { poolPerClass: 2, testPerClass: null, seed: 1, imageSize: 8 })
    expect(all.pool.set).toBe(all.test.set)
    expect(perClass(all.pool.set.labels, all.pool.indices)).toEqual([2, 2])
    expect(perClass(all.test.set.labels, all.test.indices)).toEqual([4, 4])
    expect([...all.pool.indices].filter((i) => all.test.indices.includes(i))).toEqual([])
    expect(all.notes.join('\n')).toMatch(/one split only: every image not in the pool \(8\) of it held out as the test set/)
    const capped = await loadStudyImages(`folder:${dir}`, { poolPerClass: 2, testPerClass: 1, seed: 1, imageSize: 8 })
    expect(perClass(capped.test.set.labels, capped.test.indices)).toEqual([1, 1])
    expect(capped.notes.join('\n')).toMatch(/one split only: 1 per class of it held out/)
  })
})
