/**
 * Readers for the official CIFAR-10 and CIFAR-100 binary releases.
 *
 * A file is a plain sequence of fixed-size records: label byte(s), then 1,024 R, 1,024 G and
 * 1,024 B bytes of a 32×32 image in row-major order. Reading is two passes over each file: the
 * first collects only the label bytes (so the per-class choice can be made over the whole split),
 * the second copies just the kept records, converting planar CHW to the HWC layout used everywhere.
 */

import { open, readFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { DatasetError, type ImageDataset, type ImageSet, type ReadOptions, type SplitName } from './dataset'
import { isNotFound, requireFolder, statIfExists } from './files'
import { choosePerClass, maxPerClassFor, selectClasses } from './select-classes'

const SIDE = 32
const PIXELS = SIDE * SIDE
const IMAGE_BYTES = 3 * PIXELS
/** Records per read: ~3 MB buffers, large enough for fast sequential I/O, small enough to not matter. */
const CHUNK_RECORDS = 1024

/** Options for CIFAR-100, which carries two labels per image. */
export interface Cifar100Options extends ReadOptions {
  /** Which label to use: the 100 fine classes (default) or the 20 coarse superclasses. */
  labels?: 'fine' | 'coarse'
}

/** What distinguishes one binary CIFAR release from another. */
interface CifarFormat {
  /** Dataset id prefix (`cifar10`, `cifar100`, `cifar100-coarse`). */
  idPrefix: string
  name: string
  /** Label bytes before the pixels in each record. */
  labelBytes: number
  /** Which of those label bytes is used. */
  labelOffset: number
  namesFile: string
  files: { split: SplitName; file: string }[]
}

const CIFAR10: CifarFormat = {
  idPrefix: 'cifar10',
  name: 'CIFAR-10',
  labelBytes: 1,
  labelOffset: 0,
  namesFile: 'batches.meta.txt',
  files: [
    ...[1, 2, 3, 4, 5].map((n) => ({ split: 'train' as const, file: `data_batch_${n}.bin` })),
    { split: 'test', file: 'test_batch.bin' }
  ]
}

const CIFAR100_SPLIT_FILES: CifarFormat['files'] = [
  { split: 'train', file: 'train.bin' },
  { split: 'test', file: 'test.bin' }
]

/** The batch file names of each release, for recognizing a folder without reading it. */
export const CIFAR10_BATCH_FILES: readonly string[] = CIFAR10.files.map((f) => f.file)
export const CIFAR100_BATCH_FILES: readonly string[] = CIFAR100_SPLIT_FILES.map((f) => f.file)

/**
 * Reads a CIFAR-10 binary folder (`data_batch_1..5.bin`, `test_batch.bin`, `batches.meta.txt`).
 * Whatever batch files exist are loaded: a folder with only `test_batch.bin` gives a test split only.
 * @throws DatasetError when no batch file exists, a file has a partial record, a label is out of
 * range, the names file is missing, or options name an unknown class
 */
export function readCifar10(dir: string, options: ReadOptions = {}): Promise<ImageDataset> {
  return readCifarBinary(dir, CIFAR10, options)
}

/**
 * Reads a CIFAR-100 binary folder (`train.bin`, `test.bin`, `fine_label_names.txt`,
 * `coarse_label_names.txt`), labelled with the fine (default) or coarse classes.
 * @throws DatasetError as readCifar10
 */
export function readCifar100(dir: string, options: Cifar100Options = {}): Promise<ImageDataset> {
  const coarse = options.labels === 'coarse'
  return readCifarBinary(
    dir,
    {
      idPrefix: coarse ? 'cifar100-coarse' : 'cifar100',
      name: coarse ? 'CIFAR-100 (coarse)' : 'CIFAR-100',
      labelBytes: 2,
      labelOffset: coarse ? 0 : 1,
      namesFile: coarse ? 'coarse_label_names.txt' : 'fine_label_names.txt',
      files: CIFAR100_SPLIT_FILES
    },
    options
  )
}

/**
 * Reads a class names file: one name per line, blank lines ignored.
 * @throws DatasetError when it is missing, empty or repeats a name
 */
export async function readClassNames(path: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (isNotFound(error)) throw new DatasetError(path, 'class names file is missing')
    throw error
  }
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
  if (names.length === 0) throw new DatasetError(path, 'class names file lists no names')
  const repeated = names.find((name, i) => names.indexOf(name) !== i)
  if (repeated !== undefined) throw new DatasetError(path, `class name "${repeated}" appears twice`)
  return names
}

/** One batch file that exists, with its record count. */
interface BatchFile {
  split: SplitName
  path: string
  records: number
}

async function readCifarBinary(dir: string, format: CifarFormat, options: ReadOptions): Promise<ImageDataset> {
  const recordSize = format.labelBytes + IMAGE_BYTES
  await requireFolder(dir)
  const files = await findBatchFiles(dir, format, recordSize)
  if (files.length === 0) {
    throw new DatasetError(dir, `no ${format.name} batch files (expected ${format.files.map((f) => f.file).join(', ')})`)
  }
  const allNames = await readClassNames(join(dir, format.namesFile))
  const selection = selectClasses(allNames, options.classes, dir)
  const totalRecords = files.reduce((sum, f) => sum + f.records, 0)

  // Pass 1: labels of every split, so each split's per-class choice sees all its records.
  const plans: { split: SplitName; files: BatchFile[]; kept: Int32Array; labels: Int32Array }[] = []
  let scanned = 0
  for (const split of ['train', 'test'] as const) {
    const splitFiles = files.filter((f) => f.split === split)
    if (splitFiles.length === 0) continue
    const labels = new Int32Array(splitFiles.reduce((sum, f) => sum + f.records, 0))
    let base = 0
    for (const file of splitFiles) {
      await readLabels(file, recordSize, format.labelOffset, allNames.length, selection.remap, labels.subarray(base))
      base += file.records
      scanned += file.records
      options.onProgress?.({ phase: 'scan', done: scanned, total: totalRecords })
    }
    const kept = choosePerClass(labels, selection.classNames, split, maxPerClassFor(options, split), options.seed)
    plans.push({ split, files: splitFiles, kept, labels })
  }

  // Pass 2: copy the kept records.
  const progress = { done: 0, total: plans.reduce((sum, p) => sum + p.kept.length, 0) }
  const splits: ImageDataset['splits'] = {}
  for (const plan of plans) {
    splits[plan.split] = await readKeptRecords(plan.files, plan.kept, plan.labels, recordSize, format.labelBytes, (n) => {
      progress.done += n
      options.onProgress?.({ phase: 'read', ...progress })
    })
  }
  return {
    id: `${format.idPrefix}:${dir}`,
    name: format.name,
    classNames: selection.classNames,
    height: SIDE,
    width: SIDE,
    splits,
    skipped: []
  }
}

/** The format's batch files present in dir, each checked to hold whole records only. */
async function findBatchFiles(dir: string, format: CifarFormat, recordSize: number): Promise<BatchFile[]> {
  const found: BatchFile[] = []
  for (const { split, file } of format.files) {
    const path = join(dir, file)
    const info = await statIfExists(path)
    if (info === undefined) continue
    if (info.size === 0) throw new DatasetError(path, 'file is empty')
    if (info.size % recordSize !== 0) {
      throw new DatasetError(
        path,
        `length ${info.size} bytes is not a multiple of the ${recordSize}-byte record size (truncated or not ${format.name}?)`
      )
    }
    found.push({ split, path, records: info.size / recordSize })
  }
  return found
}

/**
 * Reads one file's label bytes into `out` (remapped; -1 for dropped classes), checking each is a
 * valid class index of the source.
 */
async function readLabels(
  file: BatchFile,
  recordSize: number,
  labelOffset: number,
  classCount: number,
  remap: Int32Array,
  out: Int32Array
): Promise<void> {
  await forEachChunk(file, recordSize, () => true, (chunk, first, count) => {
    for (let r = 0; r < count; r++) {
      const value = chunk[r * recordSize + labelOffset]
      if (value >= classCount) {
        throw new DatasetError(
          file.path,
          `record ${first + r}: label byte ${value} is out of range (${classCount} classes, 0–${classCount - 1})`
        )
      }
      out[first + r] = remap[value]
    }
  })
}

/** Copies the kept records (indices over the split's files in order) into a new ImageSet. */
async function readKeptRecords(
  files: BatchFile[],
  kept: Int32Array,
  labels: Int32Array,
  recordSize: number,
  labelBytes: number,
  onRecords: (count: number) => void
): Promise<ImageSet> {
  const set: ImageSet = {
    images: new Uint8Array(kept.length * IMAGE_BYTES),
    labels: new Int32Array(kept.length),
    sources: new Array<string>(kept.length)
  }
  let next = 0 // position in `kept`, which is ascending
  let base = 0 // split-wide index of the current file's first record
  for (const file of files) {
    const end = base + file.records
    // Skip chunks that hold no kept record: a small subset reads little more than the labels.
    const hasKept = (first: number, count: number): boolean => {
      const i = lowerBound(kept, base + first)
      return i < kept.length && kept[i] < base + first + count
    }
    await forEachChunk(file, recordSize, hasKept, (chunk, first, count) => {
      const before = next
      while (next < kept.length && kept[next] < base + first + count) {
        const record = kept[next] - base
        copyRecordToHwc(chunk, (record - first) * recordSize + labelBytes, set.images, next * IMAGE_BYTES)
        set.labels[next] = labels[kept[next]]
        set.sources[next] = `${file.path}#${record}`
        next++
      }
      onRecords(next - before)
    })
    base = end
  }
  return set
}

/** Planar 32×32 R, G, B planes → interleaved RGB pixels. */
function copyRecordToHwc(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
  for (let p = 0, o = dstOffset; p < PIXELS; p++, o += 3) {
    dst[o] = src[srcOffset + p]
    dst[o + 1] = src[srcOffset + PIXELS + p]
    dst[o + 2] = src[srcOffset + 2 * PIXELS + p]
  }
}

/**
 * Reads a batch file sequentially in chunks of CHUNK_RECORDS records, calling `visit` with each
 * chunk's bytes, its first record index and record count; chunks for which `wanted` is false are
 * not read at all.
 */
async function forEachChunk(
  file: BatchFile,
  recordSize: number,
  wanted: (first: number, count: number) => boolean,
  visit: (chunk: Uint8Array, first: number, count: number) => void
): Promise<void> {
  const buffer = new Uint8Array(Math.min(CHUNK_RECORDS, file.records) * recordSize)
  const handle = await open(file.path, 'r')
  try {
    for (let first = 0; first < file.records; first += CHUNK_RECORDS) {
      const count = Math.min(CHUNK_RECORDS, file.records - first)
      if (!wanted(first, count)) continue
      await readFully(handle, buffer, count * recordSize, first * recordSize, file.path)
      visit(buffer, first, count)
    }
  } finally {
    await handle.close()
  }
}

/** fs reads may return fewer bytes than asked; loop until `length` bytes are in. */
async function readFully(handle: FileHandle, buffer: Uint8Array, length: number, position: number, path: string): Promise<void> {
  let got = 0
  while (got < length) {
    const { bytesRead } = await handle.read(buffer, got, length - got, position + got)
    if (bytesRead === 0) throw new DatasetError(path, `file ended at byte ${position + got} while reading (changed during the read?)`)
    got += bytesRead
  }
}

/** First index i with sorted[i] >= value. */
function lowerBound(sorted: Int32Array, value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid] < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
