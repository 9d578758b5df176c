import * as tf from '@tensorflow/tfjs'
import { join } from 'node:path'
import { seedLayerLabel, type TopImages } from '../../shared/viz'
import { layerOutputs } from '../models/layer-outputs'
import type { CheckpointMeta } from '../models/checkpoint'
import { extractMap, readActivations, sharedScale } from './activations'
import { imagesToTensor, normalizationOf } from './image-input'
import { rgbDataUrl } from './png'
import { activationLayerName, type RunModel } from './run-model'
import { loadRunSplit, type RunSplit } from './run-split'
import { scanImages, type ScanOptions } from './scan'
import { checkpointFingerprint, readCached, vizCacheDir, VIZ_CACHE_VERSION, writeCached } from './viz-cache'

/** Images kept per channel in the cache; asking for more recomputes with that many. */
export const CACHED_TOP_K = 16

/**
 * The top images of every channel of one layer: what a scan of a split computes once and the cache
 * keeps. Images are stored once each (a strong image is often top for several channels).
 */
export interface TopActivationIndex {
  version: number
  layer: string
  outputLayer: string
  split: 'val' | 'test'
  score: 'max' | 'mean'
  /** Images kept per channel. */
  k: number
  scanned: number
  size: number
  classNames: string[]
  /** Per channel, best first: positions into `images`, and the scores. */
  channels: { images: number[]; scores: number[] }[]
  images: { index: number; source: string; label: number }[]
}

/** A computed (or cached) index with the pixels of its images, image i at i × size² × 3. */
export interface TopActivations {
  index: TopActivationIndex
  pixels: Uint8Array
}

/**
 * Scans a split batch by batch and keeps, for every channel of a conv layer, the k images whose
 * activation map scores highest (spatial max by default, as the deep-visualization toolbox does).
 * Activations are reduced to one score per channel on the device, so only batch × channels numbers
 * come back per batch.
 */
export async function computeTopActivations(
  model: tf.LayersModel,
  meta: CheckpointMeta,
  data: RunSplit,
  convName: string,
  options: ScanOptions & { k?: number; score?: 'max' | 'mean' } = {}
): Promise<TopActivations> {
  const k = options.k ?? CACHED_TOP_K
  const score = options.score ?? 'max'
  const outputLayer = activationLayerName(model, convName)
  let best: { scores: Float64Array; positions: Int32Array; filled: number }[] | undefined
  await scanImages(
    data.set,
    data.indices,
    data.size,
    normalizationOf(meta),
    async (x, start, count) => {
      // layerOutputs keeps its outputs (tf.keep), which no enclosing tidy frees: dispose by hand.
      const [out] = layerOutputs(model, x, [outputLayer])
      const scores = score === 'max' ? out.max([1, 2]) : out.mean([1, 2])
      out.dispose()
      const channels = scores.shape[1] as number
      let values: Float32Array
      try {
        values = (await scores.data()) as Float32Array
      } finally {
        scores.dispose()
      }
      best ??= Array.from({ length: channels }, () => ({ scores: new Float64Array(k), positions: new Int32Array(k), filled: 0 }))
      for (let i = 0; i < count; i++) for (let c = 0; c < channels; c++) insertTop(best[c], k, values[i * channels + c], start + i)
    },
    options
  )
  if (!best) throw new Error('no images to scan')
  // Store each image once, in order of first use.
  const slot = new Map<number, number>()
  const images: TopActivationIndex['images'] = []
  const channels = best.map((b) => ({
    scores: Array.from(b.scores.subarray(0, b.filled)),
    images: Array.from(b.positions.subarray(0, b.filled), (position) => {
      let s = slot.get(position)
      if (s === undefined) {
        s = images.length
        slot.set(position, s)
        const index = data.indices[position]
        images.push({ index, source: data.set.sources[index] ?? '', label: data.set.labels[index] })
      }
      return s
    })
  }))
  const bytes = data.size * data.size * 3
  const pixels = new Uint8Array(images.length * bytes)
  images.forEach((image, i) => pixels.set(data.set.images.subarray(image.index * bytes, (image.index + 1) * bytes), i * bytes))
  return {
    index: { version: VIZ_CACHE_VERSION, layer: convName, outputLayer, split: data.split, score, k, scanned: data.indices.length, size: data.size, classNames: data.classNames, channels, images },
    pixels
  }
}

/** Inserts (score, position) into a descending top-k list; ties keep the earlier image first. */
function insertTop(list: { scores: Float64Array; positions: Int32Array; filled: number }, k: number, score: number, position: number): void {
  if (list.filled === k && score <= list.scores[k - 1]) return
  let i = Math.min(list.filled, k - 1)
  while (i > 0 && list.scores[i - 1] < score) {
    list.scores[i] = list.scores[i - 1]
    list.positions[i] = list.positions[i - 1]
    i--
  }
  list.scores[i] = score
  list.positions[i] = position
  if (list.filled < k) list.filled++
}

/**
 * One channel's top images with their activation maps (one forward pass over just those images),
 * coloured on one shared scale so the maps compare.
 */
export async function topImagesForChannel(model: tf.LayersModel, meta: CheckpointMeta, top: TopActivations, channel: number, k = 9): Promise<TopImages> {
  const { index } = top
  const entry = index.channels[channel]
  if (!entry) throw new Error(`channel ${channel} is outside 0 … ${index.channels.length - 1} of ${index.layer}`)
  if (k > index.k) throw new Error(`only the top ${index.k} images per channel were computed; asked for ${k}`)
  const chosen = entry.images.slice(0, k)
  const bytes = index.size * index.size * 3
  const pixels = new Uint8Array(chosen.length * bytes)
  chosen.forEach((s, i) => pixels.set(top.pixels.subarray(s * bytes, (s + 1) * bytes), i * bytes))
  const x = imagesToTensor(pixels, chosen.length, index.size, normalizationOf(meta))
  let maps
  try {
    const acts = await readActivations(model, x, index.outputLayer)
    maps = chosen.map((_, i) => extractMap(acts, i, channel))
  } finally {
    x.dispose()
  }
  const images = await Promise.all(
    chosen.map(async (s, i) => {
      const image = index.images[s]
      return {
        rank: i + 1,
        score: entry.scores[i],
        index: image.index,
        source: image.source,
        label: image.label,
        className: index.classNames[image.label] ?? String(image.label),
        dataUrl: await rgbDataUrl(pixels.subarray(i * bytes, (i + 1) * bytes), index.size, index.size),
        map: maps[i]
      }
    })
  )
  return {
    layer: index.layer,
    label: seedLayerLabel(index.layer),
    outputLayer: index.outputLayer,
    channel,
    split: index.split,
    score: index.score,
    scanned: index.scanned,
    scale: sharedScale(maps, 'shared'),
    images
  }
}

/** Options for the cached top images of a run. */
export interface RunTopOptions extends ScanOptions {
  split?: 'val' | 'test'
  score?: 'max' | 'mean'
  /** Images per channel needed (at least CACHED_TOP_K are computed). */
  k?: number
  /** Supplies the split when a scan is needed (default: loadRunSplit). */
  loadSplit?: () => Promise<RunSplit>
}

/**
 * A run's top activations for a layer: from `<project>/cache/viz/<runId>/` when a scan of these
 * exact weights exists, else computed (loading the run's split) and cached. Returns whether it was cached.
 */
export async function runTopActivations(projectDir: string, run: RunModel, convName: string, options: RunTopOptions = {}): Promise<{ top: TopActivations; cached: boolean }> {
  const split = options.split ?? 'val'
  const score = options.score ?? 'max'
  const k = Math.max(CACHED_TOP_K, options.k ?? 0)
  const fingerprint = await checkpointFingerprint(run.checkpointDir)
  const base = join(vizCacheDir(projectDir, run.runId), `top-${convName}-${split}-${score}-${fingerprint}`)
  const hit = await readCached<TopActivationIndex>(base)
  if (hit && hit.json.k >= k) return { top: { index: hit.json, pixels: hit.bin }, cached: true }
  const data = await (options.loadSplit ?? (() => loadRunSplit(run.record, run.meta, split, options.onProgress)))()
  const top = await computeTopActivations(run.model, run.meta, data, convName, { ...options, k, score })
  await writeCached(base, top.index, top.pixels)
  return { top, cached: false }
}
