import type * as tf from '@tensorflow/tfjs'
import type { RunRecord } from '../../shared/project'
import { isFrozenVariant } from '../../shared/transfer'
import { seedLayerLabel, type FilterChange, type LayerComparison, type ModelComparison } from '../../shared/viz'
import { listWeightLayers, type VggDepth } from '../../shared/vgg'
import { filterGridFromKernel, renderFilterGrid, type FilterOptions } from './filters'
import { encodePng, formatValue, textWidth, TITLE_HEIGHT, type FigureText } from './png'
import { blit, createRaster, fillRect, type Raster } from './raster'
import { readLayerWeights, type WeightArray } from './weights'

/** One side of a comparison. */
export interface ComparedModel {
  runId: string
  model: tf.LayersModel
}

/** What the target run did with the base's layers: copied 1…n, frozen or fine-tuned. */
export interface TransferContext {
  n: number | null
  variant: RunRecord['variant']
}

/** Reads the transfer context from a target run's record (a base run compared with anything: none). */
export function transferContextOf(record: RunRecord): TransferContext {
  return { n: record.n, variant: record.variant }
}

function roleOf(index: number, context: TransferContext): { transferred: boolean; frozen: boolean } {
  const transferred = context.n !== null && index <= context.n
  return { transferred, frozen: transferred && context.variant !== null && isFrozenVariant(context.variant) }
}

/** The weights of a layer and of its batch norm (statistics included). */
async function layerAndNormWeights(model: tf.LayersModel, name: string): Promise<WeightArray[]> {
  const bn = model.layers.some((l) => l.name === `${name}_bn`) ? await readLayerWeights(model, `${name}_bn`) : []
  return [...(await readLayerWeights(model, name)), ...bn]
}

function bitwiseEqual(a: WeightArray[], b: WeightArray[]): boolean {
  if (a.length !== b.length) return false
  return a.every((w, i) => w.shape.join('×') === b[i].shape.join('×') && w.values.every((v, j) => Object.is(v, b[i].values[j])))
}

/**
 * Per-filter change between two kernels of the same shape: filter f is kernel[…, f] (conv) or
 * kernel[:, f] (dense) — the last axis is always the output channel.
 */
export function filterChanges(base: WeightArray, target: WeightArray): FilterChange[] {
  const outputs = base.shape[base.shape.length - 1]
  const perFilter = base.values.length / outputs
  const changes: FilterChange[] = []
  for (let f = 0; f < outputs; f++) {
    let diffSq = 0
    let baseSq = 0
    let targetSq = 0
    let dot = 0
    let identical = true
    for (let i = 0; i < perFilter; i++) {
      const b = base.values[i * outputs + f]
      const t = target.values[i * outputs + f]
      if (!Object.is(b, t)) identical = false
      diffSq += (t - b) ** 2
      baseSq += b * b
      targetSq += t * t
      dot += b * t
    }
    changes.push({
      index: f,
      relativeChange: identical ? 0 : Math.sqrt(diffSq) / Math.max(Math.sqrt(baseSq), 1e-12),
      cosine: dot / Math.max(Math.sqrt(baseSq * targetSq), 1e-24),
      identical
    })
  }
  return changes
}

function relativeChange(base: WeightArray, target: WeightArray): number {
  let diffSq = 0
  let baseSq = 0
  base.values.forEach((b, i) => {
    diffSq += (target.values[i] - b) ** 2
    baseSq += b * b
  })
  return Math.sqrt(diffSq) / Math.max(Math.sqrt(baseSq), 1e-12)
}

/**
 * The same layer of a base model and of a model transferred from it: whether it is bit-for-bit
 * identical (a frozen, copied layer must be), how much each filter moved, and both filter pictures.
 * @throws Error when the two kernels differ in shape (different width, or the task-sized output layer)
 */
export async function compareLayer(
  base: ComparedModel,
  target: ComparedModel,
  layerName: string,
  index: number,
  context: TransferContext,
  filterOptions: FilterOptions = {}
): Promise<LayerComparison> {
  const baseWeights = await layerAndNormWeights(base.model, layerName)
  const targetWeights = await layerAndNormWeights(target.model, layerName)
  const [baseKernel] = baseWeights
  const [targetKernel] = targetWeights
  if (baseKernel.shape.join('×') !== targetKernel.shape.join('×')) {
    throw new Error(`layer '${layerName}' is ${baseKernel.shape.join('×')} in ${base.runId} but ${targetKernel.shape.join('×')} in ${target.runId}; only layers of the same shape compare`)
  }
  const isConv = baseKernel.shape.length === 4
  return {
    layer: layerName,
    label: seedLayerLabel(layerName),
    kind: isConv ? 'conv' : 'dense',
    baseRunId: base.runId,
    targetRunId: target.runId,
    ...roleOf(index, context),
    identical: bitwiseEqual(baseWeights, targetWeights),
    relativeChange: relativeChange(baseKernel, targetKernel),
    filters: filterChanges(baseKernel, targetKernel),
    base: isConv ? filterGridFromKernel(layerName, baseKernel, filterOptions) : null,
    target: isConv ? filterGridFromKernel(layerName, targetKernel, filterOptions) : null
  }
}

/** Every weight layer of the two models side by side: identical or not, and the kernel's relative change. */
export async function compareModels(base: ComparedModel, target: ComparedModel, depth: VggDepth, context: TransferContext): Promise<ModelComparison> {
  const layers: ModelComparison['layers'] = []
  // One layer at a time: only two layers' weights are ever copied out at once.
  for (const info of listWeightLayers(depth)) {
    const b = await layerAndNormWeights(base.model, info.name)
    const t = await layerAndNormWeights(target.model, info.name)
    const shapeMatches = b[0].shape.join('×') === t[0].shape.join('×')
    layers.push({
      layer: info.name,
      label: seedLayerLabel(info.name),
      index: info.index,
      kind: info.kind,
      ...roleOf(info.index, context),
      identical: shapeMatches && bitwiseEqual(b, t),
      relativeChange: shapeMatches ? relativeChange(b[0], t[0]) : null,
      shapeMatches
    })
  }
  return { baseRunId: base.runId, targetRunId: target.runId, variant: context.variant, n: context.n, layers }
}

const BAR_AREA = 60
const IDENTICAL = [120, 170, 120] as const
const CHANGED = [200, 90, 60] as const

/** Per-filter change as bars (height ∝ relative change); identical filters get a short green stub. */
export function renderChangeBars(filters: FilterChange[], width: number): Raster {
  const raster = createRaster(width, BAR_AREA)
  const peak = Math.max(1e-12, ...filters.map((f) => f.relativeChange))
  const step = width / Math.max(1, filters.length)
  filters.forEach((f, i) => {
    const x = Math.floor(i * step)
    const w = Math.max(1, Math.floor(step) - (step > 3 ? 1 : 0))
    if (f.identical) fillRect(raster, x, BAR_AREA - 3, w, 3, IDENTICAL)
    else {
      const h = Math.max(1, Math.round((f.relativeChange / peak) * (BAR_AREA - 4)))
      fillRect(raster, x, BAR_AREA - h, w, h, CHANGED)
    }
  })
  return raster
}

/** A layer comparison as a PNG: base filters | target filters (convs), per-filter change bars below. */
export async function renderComparisonPng(result: LayerComparison, title: string): Promise<Buffer> {
  const gap = 16
  const left = result.base ? renderFilterGrid(result.base) : createRaster(0, 0)
  const right = result.target ? renderFilterGrid(result.target) : createRaster(0, 0)
  const gridsWidth = left.width + (right.width > 0 ? gap + right.width : 0)
  const width = Math.max(gridsWidth, 320, textWidth(title))
  const labelRow = left.height > 0 ? 16 : 0
  const bars = renderChangeBars(result.filters, width - 8)
  const height = TITLE_HEIGHT + labelRow + left.height + 20 + bars.height + 20
  const figure = createRaster(width, height)
  const texts: FigureText[] = [{ x: 4, y: 15, text: title }]
  if (left.height > 0) {
    blit(figure, left, 0, TITLE_HEIGHT + labelRow)
    blit(figure, right, left.width + gap, TITLE_HEIGHT + labelRow)
    texts.push({ x: 4, y: TITLE_HEIGHT + 12, text: `base ${result.baseRunId}`, size: 10 }, { x: left.width + gap + 4, y: TITLE_HEIGHT + 12, text: `target ${result.targetRunId}`, size: 10 })
  }
  const barsY = TITLE_HEIGHT + labelRow + left.height + 20
  blit(figure, bars, 4, barsY)
  const peak = Math.max(0, ...result.filters.map((f) => f.relativeChange))
  const state = result.identical ? 'identical' : `max relative change ${formatValue(peak)}`
  texts.push({ x: 4, y: barsY - 6, text: `per-filter change (${result.frozen ? 'frozen' : result.transferred ? 'copied, fine-tuned' : 're-initialized'}): ${state}`, size: 11 })
  return encodePng(figure, texts)
}
