import { colorAt, type ColormapName, type VizTile } from '../../shared/viz'

/** An RGB picture being composed: width × height × 3 bytes, row-major. */
export interface Raster {
  width: number
  height: number
  data: Uint8Array
}

export type Rgb = readonly [number, number, number]

/** Background of every exported figure: a light grey that sets tiles apart without competing with them. */
export const BACKGROUND: Rgb = [236, 236, 236]

/** A raster filled with one colour. */
export function createRaster(width: number, height: number, fill: Rgb = BACKGROUND): Raster {
  const data = new Uint8Array(width * height * 3)
  for (let o = 0; o < data.length; o += 3) {
    data[o] = fill[0]
    data[o + 1] = fill[1]
    data[o + 2] = fill[2]
  }
  return { width, height, data }
}

/** Fills a rectangle (clipped to the raster). */
export function fillRect(raster: Raster, x: number, y: number, w: number, h: number, color: Rgb): void {
  for (let yy = Math.max(0, y); yy < Math.min(raster.height, y + h); yy++) {
    for (let xx = Math.max(0, x); xx < Math.min(raster.width, x + w); xx++) {
      const o = (yy * raster.width + xx) * 3
      raster.data[o] = color[0]
      raster.data[o + 1] = color[1]
      raster.data[o + 2] = color[2]
    }
  }
}

/**
 * Draws a tile scaled up `scale` times with nearest-neighbour sampling (each value becomes a
 * scale × scale block: kernels and small maps must stay crisp, not blurred). Grey tiles go through
 * the colour map; RGB tiles are drawn as they are.
 */
export function drawTile(raster: Raster, tile: VizTile, x: number, y: number, scale: number, colormap: ColormapName = 'gray'): void {
  for (let ty = 0; ty < tile.height; ty++) {
    for (let tx = 0; tx < tile.width; tx++) {
      const v = (ty * tile.width + tx) * tile.channels
      const color: Rgb =
        tile.channels === 3
          ? [Math.round(tile.values[v] * 255), Math.round(tile.values[v + 1] * 255), Math.round(tile.values[v + 2] * 255)]
          : colorAt(colormap, tile.values[v])
      fillRect(raster, x + tx * scale, y + ty * scale, scale, scale, color)
    }
  }
}

/** Copies RGB bytes (an input image) into the raster, scaled up with nearest-neighbour sampling. */
export function drawRgbBytes(raster: Raster, pixels: Uint8Array, width: number, height: number, x: number, y: number, scale: number): void {
  const values = Array.from(pixels.subarray(0, width * height * 3), (b) => b / 255)
  drawTile(raster, { width, height, channels: 3, values }, x, y, scale)
}

/** Pastes one raster into another at (x, y). */
export function blit(target: Raster, source: Raster, x: number, y: number): void {
  for (let sy = 0; sy < source.height; sy++) {
    const ty = y + sy
    if (ty < 0 || ty >= target.height) continue
    for (let sx = 0; sx < source.width; sx++) {
      const tx = x + sx
      if (tx < 0 || tx >= target.width) continue
      const s = (sy * source.width + sx) * 3
      const t = (ty * target.width + tx) * 3
      target.data[t] = source.data[s]
      target.data[t + 1] = source.data[s + 1]
      target.data[t + 2] = source.data[s + 2]
    }
  }
}

/** Where the cells of a grid go. */
export interface GridLayout {
  columns: number
  rows: number
  cellWidth: number
  cellHeight: number
  gap: number
  width: number
  height: number
  /** Top-left corner of cell i. */
  at(i: number): { x: number; y: number }
}

/** Lays out `count` equal cells in rows, about square overall unless `columns` is given. */
export function gridLayout(count: number, cellWidth: number, cellHeight: number, options: { columns?: number; gap?: number } = {}): GridLayout {
  const gap = options.gap ?? 2
  const columns = Math.max(1, Math.min(count, options.columns ?? Math.ceil(Math.sqrt(Math.max(1, count) * (cellHeight / cellWidth)))))
  const rows = Math.max(1, Math.ceil(count / columns))
  return {
    columns,
    rows,
    cellWidth,
    cellHeight,
    gap,
    width: columns * cellWidth + (columns + 1) * gap,
    height: rows * cellHeight + (rows + 1) * gap,
    at: (i) => ({ x: gap + (i % columns) * (cellWidth + gap), y: gap + Math.floor(i / columns) * (cellHeight + gap) })
  }
}

/** The nearest-neighbour factor that brings a side of `size` pixels to about `target` pixels (at least 1). */
export function scaleFor(size: number, target: number): number {
  return Math.max(1, Math.round(target / Math.max(1, size)))
}

/** A horizontal colour bar: the colour map from 0 (left) to 1 (right). */
export function colorBar(width: number, height: number, colormap: ColormapName): Raster {
  const raster = createRaster(width, height)
  for (let x = 0; x < width; x++) fillRect(raster, x, 0, 1, height, colorAt(colormap, width === 1 ? 0 : x / (width - 1)))
  return raster
}
