import type * as tf from '@tensorflow/tfjs'
import { isAbsolute, relative } from 'node:path'

/** Bytes per stored value of each dtype tfjs writes (a quantized weight stores its quantization dtype). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 }

/**
 * Bytes a manifest entry occupies in its shard (quantized weights at their quantized size): what the
 * checkpoint loader and the model importer check shard sizes against.
 * @throws Error naming the weight for a shape or dtype no shard can hold
 */
export function storedBytes(entry: tf.io.WeightsManifestEntry): number {
  if (!Array.isArray(entry.shape) || !entry.shape.every((n) => Number.isInteger(n) && n >= 0)) throw new Error(`weight '${entry.name}' has shape ${JSON.stringify(entry.shape)}, not a list of sizes`)
  const dtype = entry.quantization?.dtype ?? entry.dtype
  const bytes = DTYPE_BYTES[dtype]
  if (bytes === undefined) throw new Error(`weight '${entry.name}' has unsupported dtype ${dtype}`)
  return entry.shape.reduce((a, b) => a * b, 1) * bytes
}

/** Whether `path` lies inside `dir` (not the folder itself, not above it): shard paths must. */
export function isInsideFolder(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}
