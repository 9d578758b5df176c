/**
 * Checks a folder in the CIFAR binary layout and counts its images per class, reading only the label
 * bytes (a CIFAR-10 folder is checked in well under a second). What is checked is what the readers
 * need: whole records, labels within the names file, names files present.
 */
import { existsSync } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { LibraryClass } from '../../shared/library'
import { readClassNames } from '../data/cifar-binary'
import { DatasetError } from '../data/dataset'
import { CIFAR_RELEASES, type CifarRelease } from './cifar-releases'
import { LibraryError } from './library-error'

/** Records per read: ~3 MB, sequential and cheap. */
const CHUNK_RECORDS = 1024

/** What a CIFAR folder holds. */
export interface CifarFolderContents {
  classes: LibraryClass[]
  coarseClassNames?: string[]
  counts: { train: number; test: number }
  bytesOnDisk: number
}

/** Which release a folder holds, by its names file and data files; undefined when neither. */
export function detectCifarFolder(dir: string): CifarRelease | undefined {
  return Object.values(CIFAR_RELEASES).find(
    (release) => existsSync(join(dir, release.namesFile)) && release.dataFiles.some((f) => existsSync(join(dir, f.file)))
  )
}

/**
 * Counts a CIFAR folder's images per class and split, checking every label byte.
 * @param onProgress bytes checked so far and in all
 * @throws LibraryError 'data' naming the file: no data files, a partial record, a label out of range,
 * a missing or bad names file; 'cancelled'
 */
export async function inspectCifarFolder(
  dir: string,
  release: CifarRelease,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}
): Promise<CifarFolderContents> {
  const names = await readNames(join(dir, release.namesFile))
  const coarseNames = release.coarse ? await readNames(join(dir, release.coarse.namesFile)) : undefined
  const present: { split: 'train' | 'test'; path: string; size: number }[] = []
  for (const { split, file } of release.dataFiles) {
    const path = join(dir, file)
    const info = await stat(path).catch(() => undefined)
    if (!info) continue
    if (info.size === 0 || info.size % release.recordBytes !== 0) {
      throw new LibraryError(
        'data',
        path,
        `length ${info.size.toLocaleString('en-US')} bytes is not a whole number of ${release.recordBytes.toLocaleString('en-US')}-byte records (truncated, or not ${release.title})`
      )
    }
    present.push({ split, path, size: info.size })
  }
  if (present.length === 0) {
    throw new LibraryError('data', dir, `holds no ${release.title} data file (expected ${release.dataFiles.map((f) => f.file).join(', ')})`)
  }

  const counts = names.map(() => ({ train: 0, test: 0 }))
  const total = present.reduce((sum, f) => sum + f.size, 0)
  let done = 0
  for (const file of present) {
    await forEachRecordLabel(file.path, release, options.signal, (fine, coarse, record) => {
      if (fine >= names.length) throw outOfRange(file.path, record, fine, names.length)
      if (coarseNames && coarse >= coarseNames.length) throw outOfRange(file.path, record, coarse, coarseNames.length, 'coarse ')
      counts[fine][file.split]++
    }, (bytes) => options.onProgress?.((done += bytes), total))
  }
  return {
    classes: names.map((name, i) => ({ name, ...counts[i] })),
    ...(coarseNames ? { coarseClassNames: coarseNames } : {}),
    counts: {
      train: counts.reduce((sum, c) => sum + c.train, 0),
      test: counts.reduce((sum, c) => sum + c.test, 0)
    },
    bytesOnDisk: await flatFolderBytes(dir)
  }
}

/** Total size of the files directly in a folder (CIFAR folders are flat). */
export async function flatFolderBytes(dir: string): Promise<number> {
  let bytes = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) bytes += (await stat(join(dir, entry.name))).size
  }
  return bytes
}

async function readNames(path: string): Promise<string[]> {
  try {
    return await readClassNames(path)
  } catch (error) {
    if (error instanceof DatasetError) throw new LibraryError('data', error.source, error.problem)
    throw error
  }
}

function outOfRange(path: string, record: number, value: number, classes: number, which = ''): LibraryError {
  return new LibraryError('data', path, `record ${record}: ${which}label byte ${value} is out of range (${classes} classes, 0–${classes - 1})`)
}

/**
 * Reads a data file in whole-record chunks (aligned reads keep the label positions trivial) and
 * calls `visit` with each record's fine and coarse label bytes.
 */
async function forEachRecordLabel(
  path: string,
  release: CifarRelease,
  signal: AbortSignal | undefined,
  visit: (fine: number, coarse: number, record: number) => void,
  onBytes: (count: number) => void
): Promise<void> {
  const size = release.recordBytes
  const coarseAt = release.coarse?.labelOffset ?? release.labelOffset
  const records = (await stat(path)).size / size
  const buffer = new Uint8Array(size * CHUNK_RECORDS)
  const handle = await open(path, 'r')
  try {
    for (let first = 0; first < records; first += CHUNK_RECORDS) {
      if (signal?.aborted) throw new LibraryError('cancelled', path, 'cancelled while checking')
      const count = Math.min(CHUNK_RECORDS, records - first)
      const length = count * size
      for (let got = 0; got < length; ) {
        const { bytesRead } = await handle.read(buffer, got, length - got, first * size + got)
        if (bytesRead === 0) throw new LibraryError('data', path, `file ended at byte ${first * size + got} while reading (changed during the check?)`)
        got += bytesRead
      }
      for (let r = 0; r < count; r++) visit(buffer[r * size + release.labelOffset], buffer[r * size + coarseAt], first + r)
      onBytes(length)
    }
  } finally {
    await handle.close()
  }
}
