import type * as tf from '@tensorflow/tfjs'
import { seedLayerLabel, type WeightHistogram } from '../../shared/viz'
import { encodePng, formatValue, renderFigure, textWidth, TITLE_HEIGHT, type FigureText } from './png'
import { blit, createRaster, fillRect, type Raster } from './raster'
import { readLayerWeights } from './weights'

/** Summary statistics of an array. */
export function summarize(values: Float32Array): { count: number; min: number; max: number; mean: number; std: number } {
  let min = Infinity
  let max = -Infinity
  let sum = 0
  let sumSq = 0
  for (const v of values) {
    if (v < min) min = v
    if (v > max) max = v
    sum += v
    sumSq += v * v
  }
  const count = values.length
  const mean = count > 0 ? sum / count : 0
  return { count, min: count > 0 ? min : 0, max: count > 0 ? max : 0, mean, std: Math.sqrt(Math.max(0, count > 0 ? sumSq / count - mean * mean : 0)) }
}

/**
 * Counts values into `bins` equal bins from min to max (the last bin closed, so max is counted).
 * A constant array gets one non-empty bin around its value.
 */
export function histogram(values: Float32Array, bins: number): { edges: number[]; counts: number[] } {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer, got ${bins}`)
  const { min, max } = summarize(values)
  const lo = max > min ? min : min - 0.5
  const hi = max > min ? max : max + 0.5
  const width = (hi - lo) / bins
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width))
  const counts = new Array<number>(bins).fill(0)
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++
  return { edges, counts }
}

/** The histogram of one weight layer's kernel, with kernel and bias statistics. */
export async function weightHistogram(model: tf.LayersModel, layerName: string, bins = 50): Promise<WeightHistogram> {
  const [kernel, bias] = await readLayerWeights(model, layerName)
  if (!kernel) throw new Error(`layer '${layerName}' has no weights`)
  return {
    layer: layerName,
    label: seedLayerLabel(layerName),
    kind: kernel.shape.length === 4 ? 'conv' : 'dense',
    shape: kernel.shape,
    ...summarize(kernel.values),
    ...histogram(kernel.values, bins),
    bias: bias ? summarize(bias.values) : null
  }
}

const PLOT_WIDTH = 400
const PLOT_HEIGHT = 160
const BAR_COLOR = [68, 114, 176] as const
const ZERO_COLOR = [200, 60, 60] as const

/** Draws the bars of a histogram (bar height ∝ count, a red line at weight 0 when in range). */
export function renderHistogram(h: WeightHistogram, width = PLOT_WIDTH, height = PLOT_HEIGHT): Raster {
  const raster = createRaster(width, height, [255, 255, 255])
  const peak = Math.max(1, ...h.counts)
  const bins = h.counts.length
  h.counts.forEach((count, i) => {
    const x0 = Math.round((i * width) / bins)
    const x1 = Math.round(((i + 1) * width) / bins)
    const barHeight = Math.round((count / peak) * (height - 4))
    fillRect(raster, x0, height - barHeight, Math.max(1, x1 - x0 - (x1 - x0 > 2 ? 1 : 0)), barHeight, BAR_COLOR)
  })
  const lo = h.edges[0]
  const hi = h.edges[h.edges.length - 1]
  if (lo < 0 && hi > 0) fillRect(raster, Math.round(((0 - lo) / (hi - lo)) * (width - 1)), 0, 1, height, ZERO_COLOR)
  return raster
}

/** Several layers' histograms stacked in one PNG, each with its label and statistics. */
export async function renderHistogramsPng(histograms: WeightHistogram[], title: string): Promise<Buffer> {
  const row = PLOT_HEIGHT + 40
  const figure = createRaster(Math.max(PLOT_WIDTH + 16, textWidth(title)), TITLE_HEIGHT + histograms.length * row)
  const texts: FigureText[] = [{ x: 4, y: 15, text: title }]
  histograms.forEach((h, i) => {
    const y = TITLE_HEIGHT + i * row
    blit(figure, renderHistogram(h), 8, y + 18)
    texts.push(
      { x: 8, y: y + 13, text: `${h.label} · ${h.shape.join('×')} · mean ${formatValue(h.mean)} · std ${formatValue(h.std)}` },
      { x: 8, y: y + 18 + PLOT_HEIGHT + 14, text: formatValue(h.edges[0]) },
      { x: 8 + PLOT_WIDTH, y: y + 18 + PLOT_HEIGHT + 14, text: formatValue(h.edges[h.edges.length - 1]), anchor: 'end' }
    )
  })
  return encodePng(figure, texts)
}

/** One histogram as a PNG figure. */
export function renderHistogramPng(h: WeightHistogram, title: string): Promise<Buffer> {
  return renderFigure(renderHistogram(h), title)
}
