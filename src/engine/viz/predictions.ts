import * as tf from '@tensorflow/tfjs'
import { join } from 'node:path'
import type { CellImages, ConfusionMatrix, Prediction } from '../../shared/viz'
import { forward } from '../models/forward'
import type { CheckpointMeta } from '../models/checkpoint'
import { imageBytes, imagesToTensor, normalizationOf } from './image-input'
import { rgbDataUrl } from './png'
import type { RunModel } from './run-model'
import { loadRunSplit, type RunSplit } from './run-split'
import { scanImages, type ScanOptions } from './scan'
import { checkpointFingerprint, readCached, vizCacheDir, VIZ_CACHE_VERSION, writeCached } from './viz-cache'

/** Softmax of logits / temperature, on the device (the model outputs logits; T > 1 softens, seed 003's temperature softmax). */
function probabilities(logits: tf.Tensor, temperature: number): tf.Tensor {
  return tf.softmax(tf.div(logits, temperature))
}

function checkTemperature(temperature: number): void {
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`temperature must be a positive number, got ${temperature}`)
}

/** The model's top classes for one image (size × size × 3 bytes), highest probability first. */
export async function predictImage(model: tf.LayersModel, meta: CheckpointMeta, pixels: Uint8Array, options: { top?: number; temperature?: number } = {}): Promise<Prediction> {
  const temperature = options.temperature ?? 1
  checkTemperature(temperature)
  // Logits and probabilities stacked: one read, [logits; probabilities].
  const both = tf.tidy(() => {
    const out = forward(model, imagesToTensor(pixels, 1, meta.inputSize, normalizationOf(meta)), false)
    return tf.concat([out, probabilities(out, temperature)])
  })
  const values = (await both.data()) as Float32Array
  both.dispose()
  const classes = values.length / 2
  const logits = values.subarray(0, classes)
  const probs = values.subarray(classes)
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a])
  return {
    temperature,
    top: order.slice(0, options.top ?? 5).map((label) => ({ label, className: meta.classNames[label] ?? String(label), probability: probs[label], logit: logits[label] }))
  }
}

/** Every image of a split through the model: its class probabilities (row per image). */
export interface SplitPredictions {
  version: number
  split: 'val' | 'test'
  classNames: string[]
  /** Dataset index of each row (into the split's image set). */
  indices: number[]
  labels: number[]
  predicted: number[]
  /** rows × classes probabilities (kept in the cache's binary sidecar, not in its JSON). */
  probabilities?: Float32Array
}

/** Predicts every image of a split, batch by batch (see scanImages for why in batches). */
export async function predictSplit(model: tf.LayersModel, meta: CheckpointMeta, data: RunSplit, options: ScanOptions = {}): Promise<SplitPredictions> {
  const classes = data.classNames.length
  const probs = new Float32Array(data.indices.length * classes)
  const predicted: number[] = new Array<number>(data.indices.length)
  await scanImages(
    data.set,
    data.indices,
    data.size,
    normalizationOf(meta),
    async (x, start, count) => {
      const probsT = tf.tidy(() => probabilities(forward(model, x, false), 1))
      let values: Float32Array
      try {
        values = (await probsT.data()) as Float32Array
      } finally {
        probsT.dispose()
      }
      probs.set(values, start * classes)
      for (let i = 0; i < count; i++) {
        let best = 0
        for (let c = 1; c < classes; c++) if (values[i * classes + c] > values[i * classes + best]) best = c
        predicted[start + i] = best
      }
    },
    options
  )
  return {
    version: VIZ_CACHE_VERSION,
    split: data.split,
    classNames: data.classNames,
    indices: Array.from(data.indices),
    labels: Array.from(data.indices, (i) => data.set.labels[i]),
    predicted,
    probabilities: probs
  }
}

/** Counts true label (row) × predicted label (column). */
export function confusionMatrix(p: SplitPredictions): ConfusionMatrix {
  const k = p.classNames.length
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  let correct = 0
  p.labels.forEach((label, i) => {
    counts[label][p.predicted[i]]++
    if (label === p.predicted[i]) correct++
  })
  const total = p.labels.length
  return { split: p.split, classNames: p.classNames, counts, total, correct, accuracy: total > 0 ? correct / total : 0 }
}

/**
 * The images of one confusion-matrix cell (true → predicted; off the diagonal, the misclassified
 * ones), most confident mistakes first, at most `limit`.
 */
export async function cellImages(p: SplitPredictions, data: RunSplit, trueLabel: number, predictedLabel: number, limit = 32): Promise<CellImages> {
  const k = p.classNames.length
  for (const [name, v] of [['true', trueLabel], ['predicted', predictedLabel]] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= k) throw new Error(`${name} label ${v} is outside 0 … ${k - 1}`)
  }
  if (!p.probabilities) throw new Error('predictions without probabilities')
  const probs = p.probabilities
  const rows = p.labels.flatMap((label, row) => (label === trueLabel && p.predicted[row] === predictedLabel ? [row] : []))
  rows.sort((a, b) => probs[b * k + predictedLabel] - probs[a * k + predictedLabel])
  const images = await Promise.all(
    rows.slice(0, limit).map(async (row) => {
      const index = p.indices[row]
      return {
        index,
        source: data.set.sources[index] ?? '',
        label: trueLabel,
        className: p.classNames[trueLabel],
        dataUrl: await rgbDataUrl(imageBytes(data.set, index, data.size), data.size, data.size),
        predictedProbability: probs[row * k + predictedLabel],
        trueProbability: probs[row * k + trueLabel]
      }
    })
  )
  return { split: p.split, trueLabel, predictedLabel, total: rows.length, images }
}

/**
 * A run's predictions over a split, from `<project>/cache/viz/<runId>/` when made with these exact
 * weights, else computed and cached. `loadSplit` supplies the split when it is needed (default:
 * loadRunSplit), so a caller holding it loaded already does not read the dataset twice.
 */
export async function runPredictions(
  projectDir: string,
  run: RunModel,
  split: 'val' | 'test',
  options: ScanOptions & { loadSplit?: () => Promise<RunSplit> } = {}
): Promise<{ predictions: SplitPredictions; cached: boolean }> {
  const base = join(vizCacheDir(projectDir, run.runId), `predictions-${split}-${await checkpointFingerprint(run.checkpointDir)}`)
  const hit = await readCached<SplitPredictions>(base)
  if (hit) {
    const probs = new Float32Array(hit.bin.buffer.slice(hit.bin.byteOffset, hit.bin.byteOffset + hit.bin.byteLength) as ArrayBuffer)
    return { predictions: { ...hit.json, probabilities: probs }, cached: true }
  }
  const data = await (options.loadSplit ?? (() => loadRunSplit(run.record, run.meta, split, options.onProgress)))()
  const predictions = await predictSplit(run.model, run.meta, data, options)
  const { probabilities: probs, ...json } = predictions
  await writeCached(base, json, new Uint8Array((probs as Float32Array).buffer))
  return { predictions, cached: false }
}
