import type { ImageSet } from './dataset'

/** Per-channel statistics in the 0…1 pixel scale. */
export interface Normalization {
  mean: [number, number, number]
  std: [number, number, number]
}

/** Measures per-channel mean and standard deviation over the given images (HWC bytes). */
export function measureNormalization(set: ImageSet, indices: Int32Array, pixelsPerImage: number): Normalization {
  const sum = [0, 0, 0]
  const sumSq = [0, 0, 0]
  for (const index of indices) {
    const base = index * pixelsPerImage * 3
    for (let p = 0; p < pixelsPerImage * 3; p += 3) {
      for (let c = 0; c < 3; c++) {
        const v = set.images[base + p + c] / 255
        sum[c] += v
        sumSq[c] += v * v
      }
    }
  }
  const n = Math.max(1, indices.length * pixelsPerImage)
  const mean = sum.map((s) => s / n) as [number, number, number]
  // Guard against a constant channel (synthetic data): never divide by ~0.
  const std = sumSq.map((s, c) => Math.max(1e-3, Math.sqrt(Math.max(0, s / n - mean[c] ** 2)))) as [number, number, number]
  return { mean, std }
}
