import type { TopImages } from '../../shared/viz'
import { scaledValues } from './activations'
import { formatValue, renderFigure, type FigureText } from './png'
import { createRaster, drawRgbBytes, drawTile, gridLayout, scaleFor, type Raster } from './raster'
import type { TopActivations } from './top-images'

/** The bytes of a channel's top k images, best first (for drawing them). */
export function topImagePixels(top: TopActivations, channel: number, k: number): Uint8Array[] {
  const bytes = top.index.size * top.index.size * 3
  return (top.index.channels[channel]?.images ?? []).slice(0, k).map((s) => top.pixels.subarray(s * bytes, (s + 1) * bytes))
}

/** Top images drawn at full resolution: each image above its activation map, best first, up to 8 per row. */
export function renderTopImages(result: TopImages, pixels: Uint8Array[], size: number): { raster: Raster; texts: FigureText[] } {
  const imageFactor = scaleFor(size, 96)
  const cell = size * imageFactor
  const caption = 14
  const layout = gridLayout(result.images.length, cell, 2 * cell + 4 + caption, { columns: Math.min(8, result.images.length), gap: 6 })
  const raster = createRaster(layout.width, layout.height)
  const texts: FigureText[] = []
  result.images.forEach((image, i) => {
    const p = layout.at(i)
    drawRgbBytes(raster, pixels[i], size, size, p.x, p.y, imageFactor)
    const mapFactor = Math.max(1, Math.floor(cell / image.map.width))
    const tile = { width: image.map.width, height: image.map.height, channels: 1 as const, values: scaledValues(image.map, result.scale) }
    drawTile(raster, tile, p.x, p.y + cell + 4, mapFactor, result.scale.colormap)
    texts.push({ x: p.x + cell / 2, y: p.y + 2 * cell + 4 + caption - 2, text: `${image.rank}. ${formatValue(image.score)} ${image.className}`, size: 10, anchor: 'middle' })
  })
  return { raster, texts }
}

/** Top images as a PNG figure with a title and the colour bar of the maps. */
export function renderTopImagesPng(result: TopImages, pixels: Uint8Array[], size: number, title: string): Promise<Buffer> {
  const drawn = renderTopImages(result, pixels, size)
  return renderFigure(drawn.raster, title, result.scale, drawn.texts)
}
