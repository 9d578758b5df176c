import type { WeightArray } from '../../../src/engine/viz/weights'

/** What one first-layer (RGB) filter looks like, from its weights. */
export interface FilterStructure {
  /**
   * Share of the filter's energy (about its mean) in the smooth part of each colour channel: a
   * constant plus a linear ramp, 3 of the 9 dimensions of a 3×3 map. White noise puts 1/3 there;
   * edges, colour blobs and colour gradients nearly all of it.
   */
  smooth: number
  /** Share of the smooth part that is a luminance ramp (light on one side, dark on the other): an edge. */
  edge: number
  /** Share of the smooth part that differs between the colour channels: a colour or colour-opponent pattern. */
  colour: number
}

/**
 * Splits every 3×3×3 filter into luminance (the channel mean) and chroma (the rest), and each into
 * its projection on {1, x, y} over the 3×3 grid (orthogonal there: x, y ∈ {−1, 0, 1}).
 */
export function filterStructure(kernel: WeightArray): FilterStructure[] {
  const [kh, kw, inputs, outputs] = kernel.shape
  if (kh !== 3 || kw !== 3 || inputs !== 3) throw new Error(`expected 3×3 RGB filters, got ${kernel.shape.join('×')}`)
  const out: FilterStructure[] = []
  for (let f = 0; f < outputs; f++) {
    const w = (y: number, x: number, c: number): number => kernel.values[((y * kw + x) * inputs + c) * outputs + f] as number
    let total = 0
    let mean = 0
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) mean += w(y, x, c) / 27
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) total += (w(y, x, c) - mean) ** 2
    // Per channel: constant a_c, ramps b_c (along x) and d_c (along y); energy of each fit component.
    const a: number[] = []
    const b: number[] = []
    const d: number[] = []
    for (let c = 0; c < 3; c++) {
      let sa = 0
      let sb = 0
      let sd = 0
      for (let y = 0; y < 3; y++) {
        for (let x = 0; x < 3; x++) {
          sa += w(y, x, c)
          sb += (x - 1) * w(y, x, c)
          sd += (y - 1) * w(y, x, c)
        }
      }
      a.push(sa / 9)
      b.push(sb / 6)
      d.push(sd / 6)
    }
    const avg = (v: number[]): number => (v[0]! + v[1]! + v[2]!) / 3
    // Energies over the 9 pixels: a constant contributes 9·a², a ramp 6·b².
    const lumRamp = 3 * 6 * (avg(b) ** 2 + avg(d) ** 2)
    const chroma = [0, 1, 2].reduce((s, c) => s + 9 * (a[c]! - avg(a)) ** 2 + 6 * (b[c]! - avg(b)) ** 2 + 6 * (d[c]! - avg(d)) ** 2, 0)
    const smoothEnergy = lumRamp + chroma
    out.push({
      smooth: total > 0 ? smoothEnergy / total : 0,
      edge: smoothEnergy > 0 ? lumRamp / smoothEnergy : 0,
      colour: smoothEnergy > 0 ? chroma / smoothEnergy : 0
    })
  }
  return out
}
