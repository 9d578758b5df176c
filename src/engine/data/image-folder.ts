/**
 * Reader for image-folder datasets: `root/<class>/*.jpg|jpeg|png` (everything is the train split),
 * or `root/train/<class>/…` and `root/test/<class>/…`.
 *
 * The folder is scanned first (sorted listings, so the result never depends on the file system's
 * order), the per-class choice is made on file names, and only the chosen files are decoded: a
 * 400-per-class subset of a 50,000-image folder decodes 400 per class, not 50,000.
 */

import { readdir } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import sharp, { type OutputInfo } from 'sharp'
import { DatasetError, type ImageDataset, type ImageSet, type ReadOptions, type SplitName } from './dataset'
import { requireFolder, statIfExists } from './files'
import { choosePerClass, maxPerClassFor, selectClasses } from './select-classes'
import { runPool } from '../run-pool'

/** File names (case-insensitive) that are read as images; everything else is ignored. */
const IMAGE_FILE = /\.(jpe?g|png)$/i
const DEFAULT_IMAGE_SIZE = 32
/** Decodes in flight: enough to hide file latency, few enough to leave cores to a training run. */
const DEFAULT_CONCURRENCY = 8
const SPLIT_NAMES: readonly SplitName[] = ['train', 'test']

/** Options for image folders. */
export interface ImageFolderOptions extends ReadOptions {
  /** Images decoded at the same time. Default 8. */
  concurrency?: number
}

/** One class folder of one split. */
export interface ScannedClass {
  name: string
  dir: string
  /** Image file paths, sorted. Empty when the folder holds no images (the reader rejects that). */
  files: string[]
}

/** What a scan found, before anything is decoded. */
export interface FolderScan {
  /** 'flat': root/<class>/…, all train. 'split': root/train/<class>/…, root/test/<class>/…. */
  layout: 'flat' | 'split'
  splits: { split: SplitName; classes: ScannedClass[] }[]
  /** Union of the class names of all splits, sorted. */
  classNames: string[]
}

/**
 * Lists an image folder's classes and image files without decoding anything. Hidden entries and
 * non-image files are ignored; empty class folders are reported (files: []), not rejected.
 * @throws DatasetError when root is missing or mixes train/test folders with class folders
 */
export async function scanImageFolder(root: string): Promise<FolderScan> {
  await requireFolder(root)
  const top = await listFolder(root)
  const splitDirs = top.dirs.filter((name) => (SPLIT_NAMES as readonly string[]).includes(name))
  const layout = splitDirs.length > 0 ? 'split' : 'flat'
  if (layout === 'split' && splitDirs.length !== top.dirs.length) {
    const others = top.dirs.filter((name) => !splitDirs.includes(name))
    throw new DatasetError(
      root,
      `has split folders (${splitDirs.join(', ')}) and other folders (${others.join(', ')}); ` +
        'use either root/<class>/ or root/train/<class>/ and root/test/<class>/'
    )
  }
  const splits: FolderScan['splits'] = []
  for (const split of layout === 'split' ? SPLIT_NAMES : (['train'] as const)) {
    const splitDir = layout === 'split' ? join(root, split) : root
    if (layout === 'split' && !splitDirs.includes(split)) continue
    const classDirs = layout === 'split' ? (await listFolder(splitDir)).dirs : top.dirs
    const classes: ScannedClass[] = []
    for (const name of classDirs) {
      const dir = join(splitDir, name)
      const files = (await listFolder(dir)).files.filter((file) => IMAGE_FILE.test(file)).map((file) => join(dir, file))
      classes.push({ name, dir, files })
    }
    splits.push({ split, classes })
  }
  const classNames = [...new Set(splits.flatMap((s) => s.classes.map((c) => c.name)))].sort()
  return { layout, splits, classNames }
}

/** True when a scan found at least one class folder with an image in it. */
export function hasImages(scan: FolderScan): boolean {
  return scan.splits.some((s) => s.classes.some((c) => c.files.length > 0))
}

/**
 * Reads an image-folder dataset, every image decoded to RGB and resized (stretched, not cropped) to
 * options.imageSize × options.imageSize. Classes are the sorted union of the splits' class folders.
 * @throws DatasetError when root is missing, has no class folders, a class folder holds no image,
 * options name an unknown class, or an image cannot be decoded (unless options.onUnreadable is 'skip')
 */
export async function readImageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageDataset> {
  const size = options.imageSize ?? DEFAULT_IMAGE_SIZE
  if (!Number.isInteger(size) || size < 1 || size > 4096) {
    throw new DatasetError('options.imageSize', `must be an integer from 1 to 4096, got ${size}`)
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const scan = await scanImageFolder(root)
  if (scan.classNames.length === 0) {
    throw new DatasetError(root, 'no class folders (expected root/<class>/*.jpg or root/train/<class>/*.jpg)')
  }
  const empty = scan.splits.flatMap((s) => s.classes).find((c) => c.files.length === 0)
  if (empty !== undefined) throw new DatasetError(empty.dir, 'class folder holds no .jpg, .jpeg or .png image')
  const fileCount = scan.splits.reduce((sum, s) => sum + s.classes.reduce((n, c) => n + c.files.length, 0), 0)
  options.onProgress?.({ phase: 'scan', done: fileCount, total: fileCount })

  const selection = selectClasses(scan.classNames, options.classes, root)
  const jobs = scan.splits.map(({ split, classes }) => {
    const files = classes.flatMap((c) => c.files)
    const labels = Int32Array.from(
      classes.flatMap((c) => {
        const label = selection.remap[scan.classNames.indexOf(c.name)]
        return c.files.map(() => label)
      })
    )
    const kept = choosePerClass(labels, selection.classNames, split, maxPerClassFor(options, split), options.seed)
    return { split, files: Array.from(kept, (i) => files[i]), labels: Array.from(kept, (i) => labels[i]) }
  })

  const bytesPerImage = size * size * 3
  const decoded = jobs.map((job) => ({ images: new Uint8Array(job.files.length * bytesPerImage), ok: job.files.map(() => true) }))
  const queue = jobs.flatMap((job, j) => job.files.map((file, slot) => ({ j, slot, file })))
  const skipped: ImageDataset['skipped'] = []
  const report = throttledProgress(queue.length, options.onProgress)
  await runPool(queue.length, concurrency, async (q) => {
    const { j, slot, file } = queue[q]
    try {
      decoded[j].images.set(await decodeImage(file, size), slot * bytesPerImage)
    } catch (error) {
      if (!(error instanceof DatasetError) || options.onUnreadable !== 'skip') throw error
      decoded[j].ok[slot] = false
      skipped.push({ source: file, reason: error.problem })
    }
    report()
  })

  const splits: ImageDataset['splits'] = {}
  jobs.forEach((job, j) => {
    splits[job.split] = compact(decoded[j].images, decoded[j].ok, job.labels, job.files, bytesPerImage)
  })
  // Decoding finishes out of order; list skipped files in a stable order.
  skipped.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
  return {
    id: `folder:${root}`,
    name: basename(resolve(root)),
    classNames: selection.classNames,
    height: size,
    width: size,
    splits,
    skipped
  }
}

/**
 * Decodes one file to size×size×3 RGB bytes. Alpha is flattened onto white (what a viewer shows
 * for transparent areas; dropping alpha would expose arbitrary hidden colours), grey becomes RGB,
 * EXIF rotation is applied so images look the way people labelled them.
 * @throws DatasetError naming the file when it is truncated or not a decodable image
 */
async function decodeImage(file: string, size: number): Promise<Uint8Array> {
  let result: { data: Buffer; info: OutputInfo }
  try {
    result = await sharp(file, { failOn: 'warning' }) // 'warning' also rejects truncated JPEGs
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
  } catch (error) {
    throw new DatasetError(file, `unreadable image (${(error as Error).message.trim()})`)
  }
  const { data, info } = result
  if (info.channels !== 3 || data.length !== size * size * 3) {
    throw new DatasetError(file, `decoded to ${info.channels} channels, ${data.length} bytes; expected RGB ${size}×${size}`)
  }
  return data
}

/** Drops the images that failed to decode (only with onUnreadable 'skip'). */
function compact(images: Uint8Array, ok: boolean[], labels: number[], sources: string[], bytesPerImage: number): ImageSet {
  const keep = ok.flatMap((good, i) => (good ? [i] : []))
  if (keep.length === ok.length) return { images, labels: Int32Array.from(labels), sources }
  const out = new Uint8Array(keep.length * bytesPerImage)
  keep.forEach((i, k) => out.set(images.subarray(i * bytesPerImage, (i + 1) * bytesPerImage), k * bytesPerImage))
  return { images: out, labels: Int32Array.from(keep, (i) => labels[i]), sources: keep.map((i) => sources[i]) }
}


/** Progress for each decoded image, but at most ~100 calls, so a UI is not flooded on big folders. */
function throttledProgress(total: number, onProgress: ReadOptions['onProgress']): () => void {
  let done = 0
  const step = Math.max(1, Math.floor(total / 100))
  return () => {
    done++
    if (done % step === 0 || done === total) onProgress?.({ phase: 'decode', done, total })
  }
}

/** A folder's visible (non-hidden) sub-folders and files, each sorted; symbolic links are followed. */
async function listFolder(dir: string): Promise<{ dirs: string[]; files: string[] }> {
  const dirs: string[] = []
  const files: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue
    let isDir = entry.isDirectory()
    let isFile = entry.isFile()
    if (entry.isSymbolicLink()) {
      const target = await statIfExists(join(dir, entry.name)) // a dangling link is ignored
      isDir = target?.isDirectory() ?? false
      isFile = target?.isFile() ?? false
    }
    if (isDir) dirs.push(entry.name)
    else if (isFile) files.push(entry.name)
  }
  // Plain code-unit order, not localeCompare: identical on every machine and locale.
  return { dirs: dirs.sort(), files: files.sort() }
}
