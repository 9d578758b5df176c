import { describe, expect, it } from 'vitest'
import { augmentInto } from '../../../src/engine/data/augment'
import { makeBatch } from '../../../src/engine/data/batches'
import { measureNormalization } from '../../../src/engine/data/normalize'
import { poolSizeForTrainCap, stratifiedSplit } from '../../../src/engine/data/split'
import { createRandom } from '../../../src/engine/random'
import { makeSyntheticSet } from '../../helpers/synthetic-images'

describe('stratified split', () => {
  const labels = Int32Array.from({ length: 500 }, (_, i) => i % 5)

  it('holds out the same fraction of every class, disjoint from training, seeded', () => {
    const a = stratifiedSplit(labels, 5, { valFraction: 0.2, seed: 3 })
    const b = stratifiedSplit(labels, 5, { valFraction: 0.2, seed: 3 })
    const c = stratifiedSplit(labels, 5, { valFraction: 0.2, seed: 4 })
    expect(a.val).toEqual(b.val)
    expect(a.val).not.toEqual(c.val)
    expect(a.train.length + a.val.length).toBe(500)
    const perClass = [0, 0, 0, 0, 0]
    for (const i of a.val) perClass[labels[i]]++
    expect(perClass).toEqual([20, 20, 20, 20, 20])
    const trainSet = new Set(a.train)
    expect([...a.val].some((i) => trainSet.has(i))).toBe(false)
  })

  it('caps training images per class and reads just enough to do so', () => {
    expect(poolSizeForTrainCap(400, 0.2)).toBe(500)
    const pool = Int32Array.from({ length: 5 * 500 }, (_, i) => i % 5)
    const s = stratifiedSplit(pool, 5, { valFraction: 0.2, seed: 1, trainPerClass: 400 })
    expect(s.train.length).toBe(2000)
    expect(s.val.length).toBe(500)
  })
})

describe('batches and augmentation', () => {
  const set = makeSyntheticSet(4, 2, 8)
  const norm = measureNormalization(set, Int32Array.from(set.labels.keys()), 64)

  it('normalizes to zero mean and unit variance per channel without augmentation', () => {
    const batch = makeBatch(set, Int32Array.from(set.labels.keys()), 8, norm, null, createRandom(1))
    for (let c = 0; c < 3; c++) {
      let sum = 0
      let sq = 0
      for (let i = c; i < batch.x.length; i += 3) {
        sum += batch.x[i]
        sq += batch.x[i] ** 2
      }
      const n = batch.x.length / 3
      expect(sum / n).toBeCloseTo(0, 4)
      expect(Math.sqrt(sq / n - (sum / n) ** 2)).toBeCloseTo(1, 3)
    }
    expect([...batch.labels]).toEqual([...set.labels])
  })

  it('a flip mirrors rows exactly; a crop shifts with zero fill', () => {
    const size = 4
    const src = Uint8Array.from({ length: size * size * 3 }, (_, i) => i)
    const identity = { scale: Float32Array.of(1, 1, 1), shift: Float32Array.of(0, 0, 0) }
    const out = new Float32Array(src.length)
    // A generator that always says "flip" and never crops.
    const alwaysFlip = { next: () => 0.1, int: () => 4, state: () => 0 }
    augmentInto(src, 0, size, out, 0, identity.scale, identity.shift, { crop: true, flip: true, rotate: false, rotateDegrees: 0 }, alwaysFlip)
    // crop offset int(9) − 4 = 0, flip → pixel (y, x) comes from (y, 3 − x)
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) expect(out[(y * size + x) * 3]).toBe(src[(y * size + (3 - x)) * 3])
    const shiftBy2 = { next: () => 0.9, int: () => 6, state: () => 0 }
    augmentInto(src, 0, size, out, 0, identity.scale, identity.shift, { crop: true, flip: false, rotate: false, rotateDegrees: 0 }, shiftBy2)
    // dx = dy = 2: output (0,0) reads (2,2); output (2,2) is outside → 0
    expect(out[0]).toBe(src[(2 * size + 2) * 3])
    expect(out[(2 * size + 2) * 3]).toBe(0)
  })

  it('rotation keeps the centre and the same seed gives the same batch', () => {
    const aug = { crop: false, flip: false, rotate: true, rotateDegrees: 15 }
    const a = makeBatch(set, [0, 1, 2], 8, norm, aug, createRandom(9))
    const b = makeBatch(set, [0, 1, 2], 8, norm, aug, createRandom(9))
    const plain = makeBatch(set, [0, 1, 2], 8, norm, null, createRandom(9))
    expect(a.x).toEqual(b.x)
    expect(a.x).not.toEqual(plain.x)
  })
})
