import { describe, expect, it } from 'vitest'
import { barPercent, formatValue, layerFate, layerOptionLabel, mapPixels, pictureFileName, probabilitySum, scaleGradient, tileCount, tilePixels, tileScale } from '../../src/renderer/src/lib/inside-pictures'
import { colorAt, type ActivationMap, type ColorScale } from '../../src/shared/viz'

describe('inside pictures', () => {
  it('turns grey and RGB tiles into opaque RGBA pixels, clamping to 0…1', () => {
    expect([...tilePixels({ width: 2, height: 1, channels: 1, values: [0, 1] })]).toEqual([0, 0, 0, 255, 255, 255, 255, 255])
    expect([...tilePixels({ width: 1, height: 1, channels: 3, values: [1, 0.5, 2] })]).toEqual([255, 128, 255, 255])
  })

  it('colours maps with the engine’s scale: shared range, or each map’s own', () => {
    const map: ActivationMap = { channel: 0, width: 2, height: 1, min: 1, max: 3, mean: 2, values: [1, 3] }
    const shared: ColorScale = { min: 0, max: 4, colormap: 'viridis', mode: 'shared' }
    const px = mapPixels(map, shared)
    expect([...px.slice(0, 3)]).toEqual(colorAt('viridis', 0.25))
    expect([...px.slice(4, 7)]).toEqual(colorAt('viridis', 0.75))
    const own = mapPixels(map, { ...shared, mode: 'per-map' })
    expect([...own.slice(0, 3)]).toEqual(colorAt('viridis', 0))
    expect([...own.slice(4, 7)]).toEqual(colorAt('viridis', 1))
    // A flat map (all zeros after ReLU) is the low end, not NaN.
    expect([...mapPixels({ ...map, min: 0, max: 0, values: [0, 0] }, { ...shared, min: 0, max: 0 }).slice(0, 4)]).toEqual([...colorAt('viridis', 0), 255])
  })

  it('builds the scale bar gradient from viridis’ ends', () => {
    const g = scaleGradient('viridis', 3)
    expect(g.startsWith('linear-gradient(to right, ')).toBe(true)
    expect(g).toContain(`rgb(${colorAt('viridis', 0).join(', ')}) 0%`)
    expect(g).toContain(`rgb(${colorAt('viridis', 1).join(', ')}) 100%`)
  })

  it('labels layers with Keras and seed 003 names, and what transfer did to them', () => {
    expect(layerOptionLabel({ name: 'block1_conv1', label: 'conv 1-1', channels: 4, trainable: false })).toBe('block1_conv1 · conv 1-1 (4) · frozen')
    expect(layerOptionLabel({ name: 'fc1', label: 'fc1', channels: 256, trainable: true })).toBe('fc1 (256)')
    expect(layerFate({ transferred: true, frozen: true })).toBe('frozen')
    expect(layerFate({ transferred: true, frozen: false })).toBe('fine-tuned')
    expect(layerFate({ transferred: false, frozen: false })).toBe('re-initialized')
  })

  it('sizes bars, tiles and file names', () => {
    expect(barPercent(0, 2)).toBe(0)
    expect(barPercent(null, 2)).toBe(0)
    expect(barPercent(1, 2)).toBe(50)
    expect(barPercent(1e-6, 2)).toBe(1)
    expect(tileScale(3)).toBe(12)
    expect(tileScale(64)).toBe(1)
    expect(tileCount([{ tiles: [1, 2, 3] }, { tiles: [1] }])).toBe(4)
    expect(pictureFileName('filters', 'AnB n=2 A→B', 'block1_conv1', null)).toBe('filters-AnB-n-2-A-B-block1_conv1.png')
    expect(formatValue(0.0123456)).toBe('0.0123')
    expect(formatValue(12345)).toBe('1.23e+4')
    expect(probabilitySum({ temperature: 1, top: [{ label: 0, className: 'a', probability: 0.25, logit: 0 }, { label: 1, className: 'b', probability: 0.75, logit: 1 }] })).toBe(1)
  })
})
