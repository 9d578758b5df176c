/**
 * Checks an image folder (`root/<class>/…`, or `root/train/<class>/…` + `root/test/<class>/…`) by
 * decoding every image once, so unreadable files are found at import, listed with the reason, and
 * counted, instead of stopping a training run hours later. The import goes on past them.
 */
import { stat } from 'node:fs/promises'
import sharp from 'sharp'
import type { LibraryClass } from '../../shared/library'
import { DatasetError } from '../data/dataset'
import { scanImageFolder, type FolderScan } from '../data/image-folder'
import { LibraryError } from './library-error'
import { runPool } from '../run-pool'

/** Unreadable files listed in the result (all are counted). */
export const MAX_LISTED_UNREADABLE = 1000
/** Two decodes at a time: the machine may be training on the other core. */
const DEFAULT_CONCURRENCY = 2

type SplitCounts = { train: number; test: number }

export interface ImageFolderContents {
  layout: FolderScan['layout']
  classes: LibraryClass[]
  counts: { train: number; test: number }
  /** The size every readable image has, or null when sizes differ. */
  imageSize: { width: number; height: number } | null
  bytesOnDisk: number
  unreadable: { file: string; reason: string }[]
  unreadableCount: number
}

export interface ImageFolderCheckOptions {
  signal?: AbortSignal
  /** 'scanning' once the listing is done (files found), then 'decoding' per image. */
  onProgress?: (phase: 'scanning' | 'decoding', done: number, total: number) => void
  concurrency?: number
}

/**
 * Scans and decodes an image folder.
 * @throws LibraryError 'not-found' (no folder), 'data' (mixed layout, no class folders, a class folder
 * with no image or no readable image), 'cancelled'
 */
export async function inspectImageFolder(root: string, options: ImageFolderCheckOptions = {}): Promise<ImageFolderContents> {
  let scan: FolderScan
  try {
    scan = await scanImageFolder(root)
  } catch (error) {
    if (error instanceof DatasetError) throw new LibraryError(/not found/.test(error.problem) ? 'not-found' : 'data', error.source, error.problem)
    throw error
  }
  const classDirs = scan.splits.flatMap((s) => s.classes.map((c) => ({ split: s.split, ...c })))
  if (classDirs.length === 0) {
    throw new LibraryError('data', root, 'holds no class folders (expected root/<class>/*.jpg|png, or root/train/<class>/… and root/test/<class>/…)')
  }
  const empty = classDirs.find((c) => c.files.length === 0)
  if (empty) throw new LibraryError('data', empty.dir, 'class folder holds no .jpg, .jpeg or .png image')

  const jobs = classDirs.flatMap((c) => c.files.map((file) => ({ file, split: c.split, name: c.name })))
  options.onProgress?.('scanning', jobs.length, jobs.length)

  const counts = new Map<string, SplitCounts>(scan.classNames.map((name) => [name, { train: 0, test: 0 }]))
  const sizes = new Set<string>()
  const unreadable: { file: string; reason: string }[] = []
  let bytesOnDisk = 0
  let done = 0
  await runPool(jobs.length, options.concurrency ?? DEFAULT_CONCURRENCY, async (i) => {
    if (options.signal?.aborted) throw new LibraryError('cancelled', root, 'cancelled while decoding images')
    const job = jobs[i]
    bytesOnDisk += (await stat(job.file)).size
    try {
      const { width, height } = await decode(job.file)
      sizes.add(`${width}x${height}`)
      const count = counts.get(job.name) as SplitCounts
      count[job.split]++
    } catch (error) {
      unreadable.push({ file: job.file, reason: (error as Error).message.trim() })
    }
    options.onProgress?.('decoding', ++done, jobs.length)
  })

  const noneReadable = classDirs.find((c) => (counts.get(c.name) as SplitCounts)[c.split] === 0)
  if (noneReadable) {
    throw new LibraryError('data', noneReadable.dir, `class folder holds no readable image (${noneReadable.files.length} unreadable)`)
  }
  // Decodes finish out of order; list them in a stable order.
  unreadable.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  const classes: LibraryClass[] = scan.classNames.map((name) => ({ name, ...(counts.get(name) as SplitCounts) }))
  const [onlySize] = sizes
  return {
    layout: scan.layout,
    classes,
    counts: { train: classes.reduce((n, c) => n + c.train, 0), test: classes.reduce((n, c) => n + c.test, 0) },
    imageSize: sizes.size === 1 ? { width: Number(onlySize.split('x')[0]), height: Number(onlySize.split('x')[1]) } : null,
    bytesOnDisk,
    unreadable: unreadable.slice(0, MAX_LISTED_UNREADABLE),
    unreadableCount: unreadable.length
  }
}

/**
 * Decodes a whole image (as training will: failOn 'warning' also catches truncated JPEGs) and returns
 * its stored size. The pixels go to a tiny thumbnail: the point is that every byte was read.
 */
async function decode(file: string): Promise<{ width: number; height: number }> {
  const image = sharp(file, { failOn: 'warning' })
  const meta = await image.metadata()
  await image.resize(8, 8, { fit: 'fill' }).raw().toBuffer()
  if (!meta.width || !meta.height) throw new Error('no image size in the file')
  // EXIF orientations 5–8 turn the image a quarter: the size a user sees is swapped.
  const turned = (meta.orientation ?? 1) >= 5
  return turned ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height }
}

