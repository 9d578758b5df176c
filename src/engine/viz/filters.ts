import type * as tf from '@tensorflow/tfjs'
import { seedLayerLabel, type FilterGrid, type FilterMode, type FilterView, type VizTile } from '../../shared/viz'
import { renderFigure } from './png'
import { createRaster, drawTile, gridLayout, scaleFor, type Raster } from './raster'
import { readKernel, type WeightArray } from './weights'

/** Options for reading a conv layer's filters. */
export interface FilterOptions {
  /** Default: `rgb` when the layer sees 3 input channels (the first conv), else `mean`. */
  mode?: FilterMode
  /** At most this many filters, the first ones (default: all; 64 in `channels` mode, where each filter is a grid). */
  maxFilters?: number
  /** `channels` mode: input channels drawn per filter, the first ones (default 16). */
  maxInputChannels?: number
}

/**
 * Reads a conv layer's kernels as tiles, each filter normalized on its own (its smallest weight → 0,
 * largest → 1), so weak and strong filters are equally visible — the usual way to show first-layer
 * filters. Deeper kernels have too many input channels for colour: `mean` averages them, `channels`
 * shows each one.
 * @throws Error when the layer is not a conv, or `rgb` is asked of a layer without 3 input channels
 */
export async function filterGrid(model: tf.LayersModel, layerName: string, options: FilterOptions = {}): Promise<FilterGrid> {
  return filterGridFromKernel(layerName, await readKernel(model, layerName), options)
}

/** filterGrid for a kernel already read (so comparisons read each side once). */
export function filterGridFromKernel(layerName: string, kernel: WeightArray, options: FilterOptions = {}): FilterGrid {
  if (kernel.shape.length !== 4) throw new Error(`layer '${layerName}' is not a conv layer (kernel shape ${kernel.shape.join('×')})`)
  const [kh, kw, inputs, outputs] = kernel.shape
  const mode = options.mode ?? (inputs === 3 ? 'rgb' : 'mean')
  if (mode === 'rgb' && inputs !== 3) {
    throw new Error(`layer '${layerName}' has ${inputs} input channels; RGB tiles need 3 (use mode 'mean' or 'channels')`)
  }
  const shownInputs = mode === 'channels' ? Math.min(inputs, options.maxInputChannels ?? 16) : mode === 'rgb' ? 3 : 1
  const count = Math.min(outputs, options.maxFilters ?? (mode === 'channels' ? 64 : outputs))
  const filters: FilterView[] = []
  for (let f = 0; f < count; f++) filters.push(readFilter(kernel, f, mode, shownInputs))
  return {
    layer: layerName,
    label: seedLayerLabel(layerName),
    mode,
    kernelSize: [kh, kw],
    inputChannels: inputs,
    outputChannels: outputs,
    shownInputChannels: shownInputs,
    filters
  }
}

/**
 * What training changed in a kernel: trained − initial, element by element, as a kernel of the same
 * shape (so it draws like one: filterGridFromKernel).
 * @throws Error when the two kernels differ in shape
 */
export function kernelChange(layerName: string, trained: WeightArray, initial: WeightArray): WeightArray {
  if (trained.shape.join('×') !== initial.shape.join('×')) {
    throw new Error(`layer '${layerName}': the trained kernel is ${trained.shape.join('×')}, the initial one ${initial.shape.join('×')}`)
  }
  return { shape: [...trained.shape], values: trained.values.map((v, i) => v - initial.values[i]) }
}

function readFilter(kernel: WeightArray, f: number, mode: FilterMode, shownInputs: number): FilterView {
  const [kh, kw, inputs, outputs] = kernel.shape
  const at = (y: number, x: number, c: number): number => kernel.values[((y * kw + x) * inputs + c) * outputs + f]
  let min = Infinity
  let max = -Infinity
  let sumSq = 0
  for (let i = 0; i < kh * kw * inputs; i++) {
    const v = kernel.values[i * outputs + f]
    if (v < min) min = v
    if (v > max) max = v
    sumSq += v * v
  }
  const tile = (channels: 1 | 3, value: (y: number, x: number, c: number) => number): VizTile => {
    const values: number[] = []
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let c = 0; c < channels; c++) values.push(value(y, x, c))
    return { width: kw, height: kh, channels, values }
  }
  let tiles: VizTile[]
  if (mode === 'rgb') tiles = [tile(3, (y, x, c) => rescale(at(y, x, c), min, max))]
  else if (mode === 'channels') tiles = Array.from({ length: shownInputs }, (_, c) => tile(1, (y, x) => rescale(at(y, x, c), min, max)))
  else {
    const mean = tile(1, (y, x) => {
      let s = 0
      for (let c = 0; c < inputs; c++) s += at(y, x, c)
      return s / inputs
    })
    // The mean has its own, narrower range: stretch it, or every mean tile would look flat grey.
    tiles = [normalizeTile(mean)]
  }
  return { index: f, min, max, norm: Math.sqrt(sumSq), tiles }
}

/** Maps v from [min, max] to [0, 1]; a constant filter is mid-grey. */
function rescale(v: number, min: number, max: number): number {
  return max > min ? (v - min) / (max - min) : 0.5
}

/** Stretches a tile's values to [0, 1]. */
export function normalizeTile(tile: VizTile): VizTile {
  let min = Infinity
  let max = -Infinity
  for (const v of tile.values) {
    if (v < min) min = v
    if (v > max) max = v
  }
  return { ...tile, values: tile.values.map((v) => rescale(v, min, max)) }
}

/** Drawing options for filter pictures. */
export interface FilterRenderOptions {
  /** Nearest-neighbour factor per kernel pixel (default: 3×3 kernels become 48 px tiles). */
  scale?: number
  /** Filters per row (default: about square). */
  columns?: number
}

/** Draws a filter grid at full resolution: one cell per filter (in `channels` mode a small grid of its input channels). */
export function renderFilterGrid(grid: FilterGrid, options: FilterRenderOptions = {}): Raster {
  const [kh, kw] = grid.kernelSize
  const scale = options.scale ?? scaleFor(Math.max(kh, kw), grid.mode === 'channels' ? 18 : 48)
  const inner = gridLayout(grid.mode === 'channels' ? grid.shownInputChannels : 1, kw * scale, kh * scale, { gap: 1 })
  const cellW = grid.mode === 'channels' ? inner.width : kw * scale
  const cellH = grid.mode === 'channels' ? inner.height : kh * scale
  const outer = gridLayout(grid.filters.length, cellW, cellH, { columns: options.columns, gap: grid.mode === 'channels' ? 4 : 3 })
  const raster = createRaster(outer.width, outer.height)
  grid.filters.forEach((filter, i) => {
    const cell = outer.at(i)
    if (grid.mode !== 'channels') {
      drawTile(raster, filter.tiles[0], cell.x, cell.y, scale)
      return
    }
    filter.tiles.forEach((tile, c) => {
      const p = inner.at(c)
      drawTile(raster, tile, cell.x + p.x, cell.y + p.y, scale)
    })
  })
  return raster
}

/** The title line of a filter figure, for the app's PNG export and the CLI alike. */
export function filterGridTitle(runId: string, grid: FilterGrid, relativeTo?: 'init'): string {
  const change = relativeTo === 'init' ? ' · change since initialization' : ''
  return `${runId} · ${grid.layer} (${grid.label}) · ${grid.filters.length} filters ${grid.kernelSize.join('×')}, ${grid.mode}${change}`
}

/** A filter grid as a PNG figure with a title line. */
export function renderFilterPng(grid: FilterGrid, title: string, options: FilterRenderOptions = {}): Promise<Buffer> {
  return renderFigure(renderFilterGrid(grid, options), title)
}
