/** Seeded training batches for the data-parallel tests: 32×32 RGB images in [−1, 1), 4 classes. */
import type { StepBatch } from '../../../../src/engine/train/train-step'

export const SIZE = 32
export const CLASSES = 4

/** `count` images and labels from a linear congruential sequence started at `seed` (the same for the same seed). */
export function makeBatch(count: number, seed: number): StepBatch {
  let s = seed
  const random = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
  return {
    x: Float32Array.from({ length: count * SIZE * SIZE * 3 }, () => random() * 2 - 1),
    labels: Int32Array.from({ length: count }, (_, i) => (i + seed) % CLASSES),
    count
  }
}
