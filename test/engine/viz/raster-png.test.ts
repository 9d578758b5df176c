import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { histogram, summarize } from '../../../src/engine/viz/histograms'
import { encodePng, renderFigure, TITLE_HEIGHT } from '../../../src/engine/viz/png'
import { createRaster, drawTile, gridLayout, scaleFor } from '../../../src/engine/viz/raster'
import { colorAt, seedLayerLabel } from '../../../src/shared/viz'

/** Decodes a PNG to raw RGB. */
async function decode(png: Buffer): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { width: info.width, height: info.height, data }
}

describe('rasters and PNG export', () => {
  it('scales tiles up nearest-neighbour: every source value becomes an exact scale × scale block', () => {
    const tile = { width: 2, height: 2, channels: 3 as const, values: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1] }
    const raster = createRaster(8, 8)
    drawTile(raster, tile, 0, 0, 4)
    const at = (x: number, y: number): number[] => Array.from(raster.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3))
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const source = (Math.floor(y / 4) * 2 + Math.floor(x / 4)) * 3
        expect(at(x, y)).toEqual(tile.values.slice(source, source + 3).map((v) => v * 255))
      }
    }
  })

  it('lays out grids with the cell count, gaps and sizes asked for', () => {
    const layout = gridLayout(10, 30, 20, { columns: 4, gap: 2 })
    expect(layout.rows).toBe(3)
    expect(layout.width).toBe(4 * 30 + 5 * 2)
    expect(layout.height).toBe(3 * 20 + 4 * 2)
    expect(layout.at(5)).toEqual({ x: 2 + 32, y: 2 + 22 })
    expect(gridLayout(16, 10, 10).columns).toBe(4)
    expect(scaleFor(3, 48)).toBe(16)
    expect(scaleFor(64, 48)).toBe(1)
  })

  it('encodes a raster as a PNG of the same size and pixels; figures keep the body at full resolution', async () => {
    const raster = createRaster(37, 23, [10, 200, 30])
    raster.data.set([255, 0, 255], (5 * 37 + 7) * 3)
    const decoded = await decode(await encodePng(raster))
    expect([decoded.width, decoded.height]).toEqual([37, 23])
    expect(Array.from(decoded.data.subarray((5 * 37 + 7) * 3, (5 * 37 + 7) * 3 + 3))).toEqual([255, 0, 255])
    expect(Array.from(decoded.data.subarray(0, 3))).toEqual([10, 200, 30])

    const body = createRaster(300, 50, [1, 2, 3])
    const figure = await decode(await renderFigure(body, 'a title', { min: 0, max: 2, colormap: 'viridis', mode: 'shared' }))
    expect(figure.width).toBe(300)
    expect(figure.height).toBeGreaterThan(TITLE_HEIGHT + 50)
    // A body pixel, untouched by the title or the colour bar.
    expect(Array.from(figure.data.subarray(((TITLE_HEIGHT + 25) * 300 + 150) * 3, ((TITLE_HEIGHT + 25) * 300 + 150) * 3 + 3))).toEqual([1, 2, 3])
  })

  it('colours: viridis runs dark purple → yellow with rising brightness; grey is linear; out-of-range clamps', () => {
    expect(colorAt('viridis', 0)).toEqual([71, 1, 85])
    const top = colorAt('viridis', 1)
    expect(top[0]).toBeGreaterThan(240)
    expect(top[2]).toBeLessThan(60)
    const luma = (c: number[]): number => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
    for (let t = 0.05; t <= 1; t += 0.05) expect(luma(colorAt('viridis', t))).toBeGreaterThan(luma(colorAt('viridis', t - 0.05)))
    expect(colorAt('gray', 0.5)).toEqual([128, 128, 128])
    expect(colorAt('gray', 2)).toEqual([255, 255, 255])
    expect(colorAt('viridis', Number.NaN)).toEqual(colorAt('viridis', 0))
  })

  it('histograms count every value once, the maximum in the last bin', () => {
    const values = Float32Array.from([-1, -0.5, 0, 0, 0.25, 1, 1])
    const h = histogram(values, 4)
    expect(h.edges).toEqual([-1, -0.5, 0, 0.5, 1])
    expect(h.counts).toEqual([1, 1, 3, 2])
    expect(h.counts.reduce((a, b) => a + b)).toBe(values.length)
    expect(histogram(Float32Array.from([3, 3]), 5).counts.reduce((a, b) => a + b)).toBe(2)
    const s = summarize(values)
    expect(s.mean).toBeCloseTo(0.75 / 7, 6)
    expect(() => histogram(values, 0)).toThrow(/bins/)
  })

  it("labels convs as seed 003 does", () => {
    expect(seedLayerLabel('block2_conv1')).toBe('conv 2-1')
    expect(seedLayerLabel('fc1')).toBe('fc1')
  })
})
