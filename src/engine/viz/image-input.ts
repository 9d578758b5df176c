import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { makeBatch } from '../data/batches'
import type { ImageSet } from '../data/dataset'
import type { Normalization } from '../data/normalize'
import { createRandom } from '../random'
import type { CheckpointMeta } from '../models/checkpoint'

/**
 * Reads an image file (JPEG, PNG, WebP …) as size × size RGB bytes, prepared exactly as the image-folder
 * reader prepares training images (EXIF orientation applied, alpha flattened onto white, stretched to
 * the square), so a dropped file is seen the way the model saw its training data.
 */
export async function readImageFile(path: string, size: number): Promise<Uint8Array> {
  return decodeImage(path, size, path)
}

/** Decodes an image given as a data URL (a file dropped on the window, read by the renderer). */
export async function readImageDataUrl(dataUrl: string, size: number): Promise<Uint8Array> {
  const match = /^data:image\/[a-z0-9.+-]+;base64,/i.exec(dataUrl)
  if (!match) throw new Error('the dropped image is not a base64 image data URL')
  return decodeImage(Buffer.from(dataUrl.slice(match[0].length), 'base64'), size, 'dropped image')
}

async function decodeImage(input: string | Buffer, size: number, name: string): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(input)
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`)
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  } catch (error) {
    throw new Error(`${name}: unreadable image (${(error as Error).message.trim()})`)
  }
}

/** A model's input normalization from its checkpoint metadata. */
export function normalizationOf(meta: CheckpointMeta): Normalization {
  const { mean, std } = meta.normalization
  return { mean: [mean[0], mean[1], mean[2]], std: [std[0], std[1], std[2]] }
}

/**
 * Turns byte images (count × size × size × 3, HWC) into the normalized float batch the model takes,
 * through the same code path as training batches (no augmentation). The caller disposes the tensor.
 */
export function imagesToTensor(pixels: Uint8Array, count: number, size: number, normalization: Normalization): tf.Tensor4D {
  if (pixels.length !== count * size * size * 3) throw new Error(`expected ${count} images of ${size}×${size}×3 bytes, got ${pixels.length} bytes`)
  const set: ImageSet = { images: pixels, labels: new Int32Array(count), sources: [] }
  const indices = Int32Array.from({ length: count }, (_, i) => i)
  const batch = makeBatch(set, indices, size, normalization, null, createRandom(0))
  return tf.tensor4d(batch.x, [count, size, size, 3])
}

/** The bytes of image `index` of a set (a view, not a copy). */
export function imageBytes(set: ImageSet, index: number, size: number): Uint8Array {
  const bytes = size * size * 3
  return set.images.subarray(index * bytes, (index + 1) * bytes)
}
