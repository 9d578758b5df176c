import * as tf from '@tensorflow/tfjs'
import { seedLayerLabel, type ActivationMap, type ActivationMaps, type ColorScale } from '../../shared/viz'
import { layerOutputs } from '../models/layer-outputs'
import type { CheckpointMeta } from '../models/checkpoint'
import { imagesToTensor, normalizationOf } from './image-input'
import { renderFigure, type FigureText } from './png'
import { createRaster, drawRgbBytes, drawTile, gridLayout, scaleFor, type Raster } from './raster'
import { activationLayerName } from './run-model'

/** A layer's output for a batch, copied to the host: shape [batch, height, width, channels]. */
export interface HostActivations {
  shape: [number, number, number, number]
  values: Float32Array
}

/** Runs images (normalized float tensor) through the model up to a layer and copies its output out. */
export async function readActivations(model: tf.LayersModel, x: tf.Tensor4D, outputLayer: string): Promise<HostActivations> {
  const [out] = layerOutputs(model, x, [outputLayer])
  try {
    if (out.shape.length !== 4) throw new Error(`layer '${outputLayer}' gives ${out.shape.length}-d output; activation maps need a conv layer`)
    return { shape: out.shape as [number, number, number, number], values: (await out.data()) as Float32Array }
  } finally {
    out.dispose()
  }
}

/** Channel c of image b as a map with its statistics. */
export function extractMap(acts: HostActivations, b: number, channel: number): ActivationMap {
  const [, height, width, channels] = acts.shape
  const values = new Array<number>(height * width)
  let min = Infinity
  let max = -Infinity
  let sum = 0
  const base = b * height * width * channels
  for (let p = 0; p < height * width; p++) {
    const v = acts.values[base + p * channels + channel]
    values[p] = v
    if (v < min) min = v
    if (v > max) max = v
    sum += v
  }
  return { channel, width, height, min, max, mean: sum / (height * width), values }
}

/** Options for activation maps. */
export interface ActivationOptions {
  /** The first N channels (default 6), or 'all'. Ignored when `channels` is given. */
  maps?: number | 'all'
  /** Exactly these channels, in this order. */
  channels?: number[]
  /** `shared` (default): one colour range for all maps, so they compare; `per-map`: each stretched. */
  scaleMode?: ColorScale['mode']
}

/**
 * Feature maps of one conv layer for one image (size × size × 3 bytes at the model's input size).
 * The maps are the conv's activations after ReLU, so 0 means "not firing".
 */
export async function activationMaps(model: tf.LayersModel, meta: CheckpointMeta, pixels: Uint8Array, convName: string, options: ActivationOptions = {}): Promise<ActivationMaps> {
  const outputLayer = activationLayerName(model, convName)
  const x = imagesToTensor(pixels, 1, meta.inputSize, normalizationOf(meta))
  let host: HostActivations
  try {
    host = await readActivations(model, x, outputLayer)
  } finally {
    x.dispose()
  }
  const channelCount = host.shape[3]
  const channels = options.channels ?? firstChannels(channelCount, options.maps ?? 6)
  for (const c of channels) {
    if (!Number.isInteger(c) || c < 0 || c >= channelCount) throw new Error(`channel ${c} is outside 0 … ${channelCount - 1} of ${convName}`)
  }
  const maps = channels.map((c) => extractMap(host, 0, c))
  return { layer: convName, label: seedLayerLabel(convName), outputLayer, channelCount, scale: sharedScale(maps, options.scaleMode ?? 'shared'), maps }
}

function firstChannels(count: number, maps: number | 'all'): number[] {
  if (maps !== 'all' && !(Number.isInteger(maps) && maps >= 1)) throw new Error(`maps must be a positive integer or 'all', got ${maps}`)
  return Array.from({ length: maps === 'all' ? count : Math.min(count, maps) }, (_, i) => i)
}

/** The colour scale over a set of maps: from min(0, lowest) to the highest value. */
export function sharedScale(maps: ActivationMap[], mode: ColorScale['mode']): ColorScale {
  let min = 0
  let max = 0
  for (const m of maps) {
    min = Math.min(min, m.min)
    max = Math.max(max, m.max)
  }
  return { min, max, colormap: 'viridis', mode }
}

/** A map's values scaled to 0…1 on the given scale (its own range in per-map mode). */
export function scaledValues(map: ActivationMap, scale: ColorScale): number[] {
  const lo = scale.mode === 'per-map' ? map.min : scale.min
  const hi = scale.mode === 'per-map' ? map.max : scale.max
  return hi > lo ? map.values.map((v) => (v - lo) / (hi - lo)) : map.values.map(() => 0)
}

/** Drawing options for map grids. */
export interface MapRenderOptions {
  /** Nearest-neighbour factor (default: maps become ~128 px). */
  scale?: number
  columns?: number
}

/** Height of the caption under each map (its channel number). */
const CAPTION = 14

/**
 * Draws maps as a grid, the input image first when given (same size as a map cell), each captioned
 * with its channel. Up to 8 cells go in one row (seed 003's figures); more wrap into a near-square grid.
 */
export function renderMapGrid(maps: ActivationMap[], scale: ColorScale, input?: { pixels: Uint8Array; size: number }, options: MapRenderOptions = {}): { raster: Raster; texts: FigureText[] } {
  const side = maps[0]?.width ?? input?.size ?? 1
  const factor = options.scale ?? scaleFor(side, 128)
  const cell = side * factor
  const count = maps.length + (input ? 1 : 0)
  const layout = gridLayout(count, cell, cell + CAPTION, { columns: options.columns ?? (count <= 8 ? count : undefined), gap: 4 })
  const raster = createRaster(layout.width, layout.height)
  const texts: FigureText[] = []
  let i = 0
  if (input) {
    const p = layout.at(i++)
    // The input is larger than deep maps: draw it at the cell size.
    drawRgbBytes(raster, input.pixels, input.size, input.size, p.x, p.y, Math.max(1, Math.floor(cell / input.size)))
    texts.push({ x: p.x + cell / 2, y: p.y + cell + CAPTION - 3, text: 'input', size: 10, anchor: 'middle' })
  }
  for (const map of maps) {
    const p = layout.at(i++)
    drawTile(raster, { width: map.width, height: map.height, channels: 1, values: scaledValues(map, scale) }, p.x, p.y, factor, scale.colormap)
    texts.push({ x: p.x + cell / 2, y: p.y + cell + CAPTION - 3, text: `#${map.channel}`, size: 10, anchor: 'middle' })
  }
  return { raster, texts }
}

/** Activation maps as a PNG figure: the input image, the maps, a colour bar with the value range. */
export function renderActivationsPng(result: ActivationMaps, pixels: Uint8Array, size: number, title: string, options: MapRenderOptions = {}): Promise<Buffer> {
  const grid = renderMapGrid(result.maps, result.scale, { pixels, size }, options)
  return renderFigure(grid.raster, title, result.scale, grid.texts)
}
