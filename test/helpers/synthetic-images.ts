import type { ImageSet } from '../../src/engine/data/dataset'
import { createRandom } from '../../src/engine/random'

/**
 * A small two-or-more-class image set a tiny network learns in a few steps: class c is a noisy image
 * whose brightness rises with c, with a class-specific bar. For trainer tests that must not read disk.
 */
export function makeSyntheticSet(perClass: number, numClasses: number, size = 32, seed = 1): ImageSet {
  const random = createRandom(seed)
  const count = perClass * numClasses
  const images = new Uint8Array(count * size * size * 3)
  const labels = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const label = i % numClasses
    labels[i] = label
    const base = 40 + (170 * label) / Math.max(1, numClasses - 1)
    for (let p = 0; p < size * size; p++) {
      const y = Math.floor(p / size)
      const bar = y % numClasses === label ? 40 : 0
      for (let c = 0; c < 3; c++) images[(i * size * size + p) * 3 + c] = Math.min(255, Math.max(0, base + bar + (random.next() - 0.5) * 60))
    }
  }
  return { images, labels, sources: Array.from({ length: count }, (_, i) => `synthetic#${i}`) }
}
