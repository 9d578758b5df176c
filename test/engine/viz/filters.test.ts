import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { filterGrid, renderFilterGrid, renderFilterPng } from '../../../src/engine/viz/filters'
import { weightHistogram } from '../../../src/engine/viz/histograms'
import { resolveVizLayer } from '../../../src/engine/viz/run-model'
import { readKernel } from '../../../src/engine/viz/weights'

let model: tf.Sequential

beforeAll(async () => {
  await tf.setBackend('cpu')
  // Width 1/8: block1 has 8 filters 3×3×3, block2 16 filters 3×3×8.
  model = buildVgg({ arch: 'vgg11_bn', width: 1 / 8, numClasses: 4, seed: 3 })
})

afterAll(() => model.dispose())

describe('filters', () => {
  it('first conv: one RGB tile per filter, 3×3, each filter stretched to exactly 0…1 from its own weights', async () => {
    const grid = await filterGrid(model, 'block1_conv1')
    const kernel = await readKernel(model, 'block1_conv1')
    expect(grid.mode).toBe('rgb')
    expect(grid.filters).toHaveLength(8)
    for (const filter of grid.filters) {
      expect(filter.tiles).toHaveLength(1)
      const [tile] = filter.tiles
      expect([tile.width, tile.height, tile.channels, tile.values.length]).toEqual([3, 3, 3, 27])
      expect(Math.min(...tile.values)).toBe(0)
      expect(Math.max(...tile.values)).toBe(1)
      // Tile (y=1, x=2, c=0) is kernel[1, 2, 0, f] mapped through the filter's own range.
      const raw = kernel.values[((1 * 3 + 2) * 3 + 0) * 8 + filter.index]
      expect(tile.values[(1 * 3 + 2) * 3]).toBeCloseTo((raw - filter.min) / (filter.max - filter.min), 6)
    }
    // Per filter, not per layer: the ranges differ between filters.
    expect(new Set(grid.filters.map((f) => f.max.toFixed(6))).size).toBeGreaterThan(1)
  })

  it('deeper convs: mean over input channels, or a grid of the first input channels', async () => {
    const mean = await filterGrid(model, 'block2_conv1')
    expect(mean.mode).toBe('mean')
    expect(mean.filters).toHaveLength(16)
    expect(mean.filters.every((f) => f.tiles.length === 1 && f.tiles[0].channels === 1)).toBe(true)
    const channels = await filterGrid(model, 'block2_conv1', { mode: 'channels', maxFilters: 5, maxInputChannels: 6 })
    expect(channels.filters).toHaveLength(5)
    expect(channels.shownInputChannels).toBe(6)
    for (const f of channels.filters) {
      expect(f.tiles).toHaveLength(6)
      for (const t of f.tiles) for (const v of t.values) expect(v >= 0 && v <= 1).toBe(true)
    }
    await expect(filterGrid(model, 'block2_conv1', { mode: 'rgb' })).rejects.toThrow(/8 input channels/)
    await expect(filterGrid(model, 'fc1')).rejects.toThrow(/not a conv layer/)
  })

  it('renders at full resolution: tile count × scale determines the picture size', async () => {
    const grid = await filterGrid(model, 'block1_conv1')
    const raster = renderFilterGrid(grid, { scale: 10, columns: 4 })
    // 4 columns × 2 rows of 30 px tiles with 3 px gaps.
    expect([raster.width, raster.height]).toEqual([4 * 30 + 5 * 3, 2 * 30 + 3 * 3])
    const png = await renderFilterPng(grid, 'block1_conv1', { scale: 10, columns: 4 })
    const meta = await sharp(png).metadata()
    expect(meta.format).toBe('png')
    expect(meta.height).toBeGreaterThan(raster.height)
  })

  it('resolves Keras names and seed 003 labels, naming the valid layers otherwise', () => {
    expect(resolveVizLayer('vgg11', 'conv 1-1').name).toBe('block1_conv1')
    expect(resolveVizLayer('vgg16', 'conv 5-1').name).toBe('block5_conv1')
    expect(resolveVizLayer('vgg11', 'block3_conv2', { convOnly: true }).index).toBe(4)
    expect(() => resolveVizLayer('vgg11', 'conv 1-2')).toThrow(/block1_conv1 \(conv 1-1\)/)
    expect(() => resolveVizLayer('vgg11', 'fc1', { convOnly: true })).toThrow(/not a conv layer/)
  })

  it('histograms count every kernel weight once', async () => {
    const h = await weightHistogram(model, 'fc1', 20)
    const kernel = await readKernel(model, 'fc1')
    expect(h.kind).toBe('dense')
    expect(h.counts.reduce((a, b) => a + b)).toBe(kernel.values.length)
    expect(h.edges[0]).toBe(h.min)
    expect(h.edges[20]).toBe(h.max)
    expect(h.bias?.count).toBe(kernel.shape[1])
  })
})
