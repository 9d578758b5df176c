/**
 * Pure helpers of the "look inside" views: engine tiles and activation maps as RGBA pixels (with the
 * engine's own colour scale, so the canvas shows what the exported PNG shows), the scale bar's
 * gradient, layer and comparison labels, and file names for exports.
 */
import type { ActivationMap, ColormapName, ColorScale, LayerComparison, ModelComparison, Prediction, VizLayerInfo, VizTile } from '../../../shared/viz'
import { colorAt } from '../../../shared/viz'

/** RGBA pixels (0…255) of a tile whose values are 0…1, grey or RGB. */
export function tilePixels(tile: VizTile): Uint8ClampedArray {
  const count = tile.width * tile.height
  const out = new Uint8ClampedArray(count * 4)
  for (let p = 0; p < count; p++) {
    for (let c = 0; c < 3; c++) {
      const v = tile.channels === 3 ? tile.values[p * 3 + c] : tile.values[p]
      out[p * 4 + c] = Math.round(Math.min(1, Math.max(0, v ?? 0)) * 255)
    }
    out[p * 4 + 3] = 255
  }
  return out
}

/** The range a map is coloured over: the shared scale, or the map's own range in `per-map` mode. */
export function mapRange(map: Pick<ActivationMap, 'min' | 'max'>, scale: ColorScale): { min: number; max: number } {
  return scale.mode === 'per-map' ? { min: map.min, max: map.max } : { min: scale.min, max: scale.max }
}

/** RGBA pixels of an activation map on a colour scale (a flat map shows the scale's low end). */
export function mapPixels(map: ActivationMap, scale: ColorScale): Uint8ClampedArray {
  const { min, max } = mapRange(map, scale)
  const span = max - min
  const count = map.width * map.height
  const out = new Uint8ClampedArray(count * 4)
  for (let p = 0; p < count; p++) {
    const t = span > 0 ? ((map.values[p] ?? 0) - min) / span : 0
    const [r, g, b] = colorAt(scale.colormap, t)
    out[p * 4] = r
    out[p * 4 + 1] = g
    out[p * 4 + 2] = b
    out[p * 4 + 3] = 255
  }
  return out
}

/** A CSS gradient (left = low) of a colour map, for the scale bar. */
export function scaleGradient(colormap: ColormapName, stops = 9): string {
  const parts = Array.from({ length: stops }, (_, i) => {
    const t = i / (stops - 1)
    const [r, g, b] = colorAt(colormap, t)
    return `rgb(${r}, ${g}, ${b}) ${Math.round(t * 100)}%`
  })
  return `linear-gradient(to right, ${parts.join(', ')})`
}

/** A short number for scale ends and scores: 3 significant digits, no exponent for everyday sizes. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return '—'
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 1000 || abs < 0.001) return value.toExponential(2)
  return String(Number(value.toPrecision(3)))
}

/** A layer's label in pickers: the Keras name, with seed 003's label beside it for convs. */
export function layerOptionLabel(layer: Pick<VizLayerInfo, 'name' | 'label' | 'channels' | 'trainable'>): string {
  const seed = layer.label !== layer.name ? ` · ${layer.label}` : ''
  return `${layer.name}${seed} (${layer.channels})${layer.trainable ? '' : ' · frozen'}`
}

/** What happened to a layer of a transferred model: copied and frozen, copied and fine-tuned, or re-initialized. */
export type LayerFate = 'frozen' | 'fine-tuned' | 're-initialized'

export function layerFate(layer: Pick<LayerComparison, 'transferred' | 'frozen'>): LayerFate {
  if (!layer.transferred) return 're-initialized'
  return layer.frozen ? 'frozen' : 'fine-tuned'
}

/** The largest relative change in a comparison (for scaling the change bars; at least a small floor). */
export function maxChange(layers: ModelComparison['layers']): number {
  return Math.max(1e-9, ...layers.map((l) => l.relativeChange ?? 0))
}

/** A bar's width in percent of its scale, for relative changes (0 stays 0, anything else at least 1%). */
export function barPercent(value: number | null, scaleMax: number): number {
  if (value === null || !(value > 0) || !(scaleMax > 0)) return 0
  return Math.max(1, Math.min(100, (value / scaleMax) * 100))
}

/** The sum of the shown probabilities (≈ 1 when every class is shown). */
export function probabilitySum(prediction: Prediction): number {
  return prediction.top.reduce((sum, p) => sum + p.probability, 0)
}

/** How many tiles a filter grid draws (filters × tiles per filter). */
export function tileCount(filters: readonly { tiles: readonly unknown[] }[]): number {
  return filters.reduce((sum, f) => sum + f.tiles.length, 0)
}

/** The on-screen size of a tile: small kernels scaled up with nearest neighbour to about `target` pixels. */
export function tileScale(size: number, target = 36): number {
  return Math.max(1, Math.round(target / Math.max(1, size)))
}

/** A file name for an exported picture: `filters-base-A-block1_conv1.png`. */
export function pictureFileName(...parts: (string | number | null | undefined)[]): string {
  const stem = parts
    .filter((p) => p !== null && p !== undefined && p !== '')
    .map((p) =>
      String(p)
        .replace(/[^\w.-]+/g, '-')
        .replace(/^-+|-+$/g, '')
    )
    .filter(Boolean)
    .join('-')
  return `${stem || 'picture'}.png`
}

/** Reads a dropped or chosen image file as a data URL; rejects files that are not images. */
export function readImageFile(file: File): Promise<string> {
  if (file.type && !file.type.startsWith('image/')) return Promise.reject(new Error(`${file.name} is not an image`))
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`))
    reader.readAsDataURL(file)
  })
}
