import sharp from 'sharp'
import { blit, colorBar, createRaster, type Raster } from './raster'
import type { ColorScale } from '../../shared/viz'

/** A line of text drawn on a figure (SVG text, rendered by sharp's librsvg). */
export interface FigureText {
  x: number
  y: number
  text: string
  size?: number
  anchor?: 'start' | 'middle' | 'end'
  /** Text colour (CSS); default near-black. */
  fill?: string
  /** Degrees, about (x, y); −90 reads bottom-up (column labels). */
  rotate?: number
}

/** Encodes an RGB raster as PNG, with optional text drawn over it. */
export async function encodePng(raster: Raster, texts: FigureText[] = []): Promise<Buffer> {
  let image = sharp(Buffer.from(raster.data.buffer, raster.data.byteOffset, raster.data.byteLength), {
    raw: { width: raster.width, height: raster.height, channels: 3 }
  })
  if (texts.length > 0) image = image.composite([{ input: Buffer.from(svgText(raster.width, raster.height, texts)), top: 0, left: 0 }])
  // Text compositing adds an alpha channel; the figure itself is opaque RGB.
  return image.removeAlpha().png().toBuffer()
}

/** A PNG as a data URL, for `<img src>` in the views. */
export function pngDataUrl(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`
}

/** Encodes RGB bytes (a dataset image) as a PNG data URL. */
export async function rgbDataUrl(pixels: Uint8Array, width: number, height: number): Promise<string> {
  const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, width * height * 3), { raw: { width, height, channels: 3 } }).png().toBuffer()
  return pngDataUrl(png)
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string)
}

function svgText(width: number, height: number, texts: FigureText[]): string {
  const items = texts
    .map((t) => {
      const fill = t.fill ? ` fill="${escapeXml(t.fill)}"` : ''
      const rotate = t.rotate ? ` transform="rotate(${t.rotate} ${t.x} ${t.y})"` : ''
      return `<text x="${t.x}" y="${t.y}" font-size="${t.size ?? 12}" text-anchor="${t.anchor ?? 'start'}"${fill}${rotate}>${escapeXml(t.text)}</text>`
    })
    .join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="DejaVu Sans, sans-serif" fill="#222">${items}</g></svg>`
}

/** About how wide a line of text renders (DejaVu Sans averages ~0.6 em per character), to size figures so titles fit. */
export function textWidth(text: string, size = 12): number {
  return Math.ceil(text.length * size * 0.6) + 8
}

/** Heights of the parts figures add around their body (pixels). */
export const TITLE_HEIGHT = 22
const BAR_HEIGHT = 12
const FOOTER_HEIGHT = BAR_HEIGHT + 24

/** Number formatting for figure labels: short, but keeps small weights readable. */
export function formatValue(v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  return a >= 1000 || a < 0.01 ? v.toExponential(2) : v.toPrecision(3)
}

/**
 * Puts a body raster into a figure: a title line above and, when given, a colour bar with its value
 * range below. The body keeps its full resolution; `bodyTexts` are placed relative to it.
 */
export async function renderFigure(body: Raster, title: string, scale?: ColorScale, bodyTexts: FigureText[] = []): Promise<Buffer> {
  const width = Math.max(body.width, 240, textWidth(title))
  const height = TITLE_HEIGHT + body.height + (scale ? FOOTER_HEIGHT : 0)
  const figure = createRaster(width, height)
  blit(figure, body, 0, TITLE_HEIGHT)
  const texts: FigureText[] = [{ x: 4, y: 15, text: title }, ...bodyTexts.map((t) => ({ ...t, y: t.y + TITLE_HEIGHT }))]
  if (scale) {
    const barWidth = Math.min(width - 8, 256)
    const y = TITLE_HEIGHT + body.height + 4
    blit(figure, colorBar(barWidth, BAR_HEIGHT, scale.colormap), 4, y)
    const low = scale.mode === 'per-map' ? 'each map: min' : formatValue(scale.min)
    const high = scale.mode === 'per-map' ? 'max' : formatValue(scale.max)
    texts.push({ x: 4, y: y + BAR_HEIGHT + 14, text: low }, { x: 4 + barWidth, y: y + BAR_HEIGHT + 14, text: high, anchor: 'end' })
  }
  return encodePng(figure, texts)
}
