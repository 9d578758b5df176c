import type * as tf from '@tensorflow/tfjs'
import type { RowPool, TestMatrix } from './few-shot'
import type { SoftTargets } from './head'

/**
 * Row-wise softmax(z / T) of a rows × width matrix, in float64 for stability. With `fromProbabilities`
 * the rows are already softmax outputs (a Keras model's last layer): log p differs from the logits
 * only by a per-row constant, which softmax cancels, so softmax(log p / T) = softmax(z / T) exactly.
 */
export function softmaxRows(matrix: Float32Array, width: number, T: number, fromProbabilities = false): Float32Array {
  if (!(T > 0)) throw new Error(`temperature must be positive, got ${T}`)
  const out = new Float32Array(matrix.length)
  const z = new Float64Array(width)
  for (let r = 0; r < matrix.length / width; r++) {
    let max = -Infinity
    for (let j = 0; j < width; j++) {
      const v = matrix[r * width + j]
      z[j] = (fromProbabilities ? Math.log(Math.max(v, 1e-30)) : v) / T
      if (z[j] > max) max = z[j]
    }
    let sum = 0
    for (let j = 0; j < width; j++) sum += (z[j] = Math.exp(z[j] - max))
    for (let j = 0; j < width; j++) out[r * width + j] = z[j] / sum
  }
  return out
}

/** Whether a layer ends in a softmax (then its outputs are probabilities, not logits). */
export function endsInSoftmax(layer: tf.layers.Layer): boolean {
  const config = layer.getConfig() as { activation?: unknown }
  return config.activation === 'softmax' || layer.getClassName() === 'Softmax'
}

/**
 * The report's temperature method: the source network's own output layer at temperature T,
 * softmax(logits / T), becomes the feature vector a new softmax head learns from.
 */
export function softFeaturePool(logits: RowPool, T: number, fromProbabilities: boolean): RowPool {
  const width = logits.meta.dims
  return { labels: logits.labels, meta: logits.meta, readRows: async (rows) => softmaxRows(await logits.readRows(rows), width, T, fromProbabilities) }
}

/** The same transform for a test matrix already in memory. */
export function softFeatureTest(logits: TestMatrix, width: number, T: number, fromProbabilities: boolean): TestMatrix {
  return { x: softmaxRows(logits.x, width, T, fromProbabilities), labels: logits.labels }
}

/**
 * Picks (and orders) a teacher's output columns to match the target classes, naming any class the
 * teacher does not know.
 */
export function teacherColumns(teacherClasses: readonly string[], targetClasses: readonly string[]): number[] {
  const missing = targetClasses.filter((c) => !teacherClasses.includes(c))
  if (missing.length > 0) throw new Error(`the teacher does not predict ${missing.map((c) => `'${c}'`).join(', ')}; its classes are ${teacherClasses.join(', ')}`)
  return targetClasses.map((c) => teacherClasses.indexOf(c))
}

/**
 * Soft targets for distillation: the teacher's logits for the target classes (columns picked by
 * `columns`), softened at T, for the given rows of the teacher's cache.
 */
export function softTargetsFor(teacher: RowPool, columns: number[], T: number, alpha: number, fromProbabilities: boolean): (rows: Int32Array) => Promise<SoftTargets> {
  const width = teacher.meta.dims
  return async (rows) => {
    const full = await teacher.readRows(rows)
    const picked = new Float32Array(rows.length * columns.length)
    for (let r = 0; r < rows.length; r++) columns.forEach((c, j) => (picked[r * columns.length + j] = full[r * width + c]))
    return { probs: softmaxRows(picked, columns.length, T, fromProbabilities), T, alpha }
  }
}
