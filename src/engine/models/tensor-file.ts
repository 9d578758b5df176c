import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { BACKEND, heapF32 } from '../backend/wasm-kernel-utils'

/** Bytes copied and written at a time. */
const CHUNK_BYTES = 4 << 20

/**
 * Writes tensors' values end to end into `dir/name`, laid out as tf.io.encodeWeights lays out its
 * weightData (each tensor's values in order, little-endian), and returns their manifest entries.
 * encodeWeights reads every tensor into JS and then joins the copies into one buffer: at width 1 a
 * checkpoint with momentum held ~670 MB of copies at the epoch's end (the model's and the
 * optimizer's 107 MB three times each: values, joined, our bytes), raising a training run's peak from
 * 2.1 to 2.6 GB. Here a 4 MB buffer is the only copy on wasm (its memory read in place, a chunk at a
 * time, before any await: wasm memory may grow and move meanwhile); other backends hand over one
 * tensor's values at a time.
 */
export async function writeTensorsFile(dir: string, name: string, tensors: { name: string; tensor: tf.Tensor }[]): Promise<tf.io.WeightsManifestEntry[]> {
  const handle = await open(join(dir, name), 'w')
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES)
  const specs: tf.io.WeightsManifestEntry[] = []
  try {
    for (const { name: weight, tensor } of tensors) {
      if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') throw new Error(`${join(dir, name)}: cannot store ${weight}, a ${tensor.dtype} tensor`)
      specs.push({ name: weight, shape: tensor.shape, dtype: tensor.dtype })
      const inWasm = tf.getBackend() === BACKEND && tensor.dtype === 'float32'
      const values = inWasm ? undefined : ((await tensor.data()) as Float32Array | Int32Array)
      const bytes = (): Uint8Array => {
        const v = values ?? heapF32(tf.backend() as BackendWasm, tensor)
        return new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
      }
      const total = 4 * tensor.size
      for (let at = 0; at < total; at += CHUNK_BYTES) {
        const n = Math.min(CHUNK_BYTES, total - at)
        chunk.set(bytes().subarray(at, at + n))
        await handle.write(chunk, 0, n)
      }
    }
    await handle.sync()
  } finally {
    await handle.close()
  }
  return specs
}
