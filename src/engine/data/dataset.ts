/**
 * The in-memory shape every dataset reader produces. Pixels stay as bytes (CIFAR-10 is 150 MB as
 * Uint8Array, four times that as float32); float batches are made on the fly.
 */

export type SplitName = 'train' | 'test'

/** A set of same-sized RGB images with one class label each. */
export interface ImageSet {
  /** count × height × width × 3 bytes, row-major, channels last (HWC), RGB. */
  images: Uint8Array
  /** Class index per image, into ImageDataset.classNames. */
  labels: Int32Array
  /** Where each image came from, for showing and for error messages (file path, or `file#record`). */
  sources: string[]
}

export interface ImageDataset {
  /** The id it was loaded from: `demo`, `cifar10:<dir>`, `cifar100:<dir>`, `folder:<dir>`. */
  id: string
  /** Human-readable name. */
  name: string
  /** Class names in label order (after any class selection, in the order selected). */
  classNames: string[]
  height: number
  width: number
  /** The splits the source provides. A source with only a test split is still usable for training. */
  splits: Partial<Record<SplitName, ImageSet>>
  /** Files that could not be read when the reader was told to skip them (with the reason). */
  skipped: { source: string; reason: string }[]
}

export interface ProgressInfo {
  phase: 'scan' | 'decode' | 'read'
  done: number
  total: number
}

/** Options every reader accepts. */
export interface ReadOptions {
  /** Keep only these classes, labels remapped to this order. An unknown name is an error naming it. */
  classes?: string[]
  /** At most this many images per class and split, a seeded random choice (readers skip decoding the rest). */
  maxPerClass?: Partial<Record<SplitName, number>>
  /** Seed for the choice above. */
  seed?: number
  /** Side length images are resized to (image folders; CIFAR is always 32). Default 32. */
  imageSize?: number
  /** 'fail' (default): an unreadable file stops the read with an error naming it. 'skip': list it in `skipped`. */
  onUnreadable?: 'fail' | 'skip'
  onProgress?: (progress: ProgressInfo) => void
}

/** An error about input data: always names the file (or field) and what is wrong with it. */
export class DatasetError extends Error {
  constructor(
    readonly source: string,
    readonly problem: string
  ) {
    super(`${source}: ${problem}`)
    this.name = 'DatasetError'
  }
}

/** Number of images in a set. */
export function countImages(set: ImageSet): number {
  return set.labels.length
}
