import type * as tf from '@tensorflow/tfjs'
import type { VizProgress } from '../../shared/viz'
import type { ImageSet } from '../data/dataset'
import type { Normalization } from '../data/normalize'
import { imagesToTensor } from './image-input'

/** Options of a job that walks many images batch by batch. */
export interface ScanOptions {
  /** Images per forward pass (default 32: about one training batch of work at a time). */
  batchSize?: number
  /** Stops the scan (with an AbortError) before the next batch. */
  signal?: AbortSignal
  onProgress?: (progress: VizProgress) => void
}

/** Lets other queued work (a training job's next batch, IPC messages) run before continuing. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Runs `visit` over the given images in batches, giving the event loop a turn after every batch. In
 * the trainer process a training job awaits between its batches too, so a long scan and a training
 * run interleave and neither waits for the other longer than about one batch.
 * @param visit gets the normalized batch tensor (disposed after the call, or after its promise settles) and the batch's first position in `indices`
 */
export async function scanImages(
  set: ImageSet,
  indices: Int32Array,
  size: number,
  normalization: Normalization,
  visit: (x: tf.Tensor4D, start: number, count: number) => void | Promise<void>,
  options: ScanOptions = {}
): Promise<void> {
  const batchSize = options.batchSize ?? 32
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`)
  const bytes = size * size * 3
  for (let start = 0; start < indices.length; start += batchSize) {
    options.signal?.throwIfAborted()
    const count = Math.min(batchSize, indices.length - start)
    const pixels = new Uint8Array(count * bytes)
    for (let i = 0; i < count; i++) pixels.set(set.images.subarray(indices[start + i] * bytes, (indices[start + i] + 1) * bytes), i * bytes)
    const x = imagesToTensor(pixels, count, size, normalization)
    try {
      await visit(x, start, count)
    } finally {
      x.dispose()
    }
    options.onProgress?.({ phase: 'scanning', done: start + count, total: indices.length })
    await yieldToEventLoop()
  }
}
