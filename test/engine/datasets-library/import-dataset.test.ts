import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readImageFolder } from '../../../src/engine/data/image-folder'
import { importDataset } from '../../../src/engine/datasets-library/import-dataset'
import { LibraryError } from '../../../src/engine/datasets-library/library-error'
import { listLibrary } from '../../../src/engine/datasets-library/library-listing'
import type { LibraryProgress } from '../../../src/engine/datasets-library/library-progress'
import { buildArchive, CIFAR10_NAMES, makeTempDir, md5, officialMembers, removeDir } from './library-fixtures'

let work: string
let dataDir: string

beforeEach(async () => {
  work = await makeTempDir('import')
  dataDir = join(work, 'data')
})
afterEach(() => removeDir(work))

async function rejection(promise: Promise<unknown>): Promise<LibraryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(LibraryError)
  return error as LibraryError
}

async function writeImage(path: string, width: number, height: number, format: 'png' | 'jpeg', shade = 128): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true })
  const image = sharp({ create: { width, height, channels: 3, background: { r: shade, g: 255 - shade, b: 40 } } })
  await writeFile(path, await (format === 'png' ? image.png() : image.jpeg()).toBuffer())
}

describe('importDataset: archives', () => {
  it('extracts a local CIFAR-10 archive into the library and records its MD5', async () => {
    const archive = await buildArchive(officialMembers('cifar10', 2))
    const file = join(work, 'my-copy.tar.gz')
    await writeFile(file, archive)
    const progress: LibraryProgress[] = []
    const d = await importDataset({ path: file, dataDir, onProgress: (p) => progress.push(p) })
    expect(d).toMatchObject({ name: 'cifar10', kind: 'cifar10', managed: true, location: join(dataDir, 'cifar10'), counts: { train: 10, test: 2 } })
    expect(d.source).toEqual({ type: 'archive', path: file, md5: md5(archive), bytes: archive.length, official: false })
    expect(progress.map((p) => p.state)).toContain('extracting')
    expect(existsSync(file)).toBe(true)
  })

  it('reads a plain .tar too, and refuses a second import under a taken name', async () => {
    const file = join(work, 'cifar.tar')
    await writeFile(file, await buildArchive(officialMembers('cifar10', 1), { gzip: false }))
    await importDataset({ path: file, dataDir })
    const error = await rejection(importDataset({ path: file, dataDir }))
    expect(error.reason).toBe('conflict')
    expect(error.message).toContain('cifar10')
    expect(error.message).toContain('already in the library')
    const again = await importDataset({ path: file, dataDir, name: 'cifar10-copy' })
    expect(again.location).toBe(join(dataDir, 'cifar10-copy'))
    expect((await listLibrary(dataDir)).datasets.map((x) => x.name)).toEqual(['cifar10', 'cifar10-copy'])
  })

  it('rejects an archive that is not a CIFAR release, naming what it holds', async () => {
    const file = join(work, 'other.tar.gz')
    await writeFile(file, await buildArchive([{ name: 'photos/cat.jpg', data: Buffer.from('x') }]))
    const error = await rejection(importDataset({ path: file, dataDir }))
    expect(error.reason).toBe('archive')
    expect(error.message).toContain('not a CIFAR binary release')
    expect(error.message).toContain('photos/')
    // Nothing left: the staging folder is gone and no index was written.
    expect(await readdir(dataDir)).toEqual([])
  })

  it('names a missing path and an unknown file type', async () => {
    expect((await rejection(importDataset({ path: join(work, 'nope'), dataDir }))).message).toContain(join(work, 'nope'))
    const zip = join(work, 'data.zip')
    await writeFile(zip, 'PK')
    const error = await rejection(importDataset({ path: zip, dataDir }))
    expect(error.reason).toBe('invalid')
    expect(error.message).toContain('.tar.gz')
  })

  it('rejects a bad name before doing any work', async () => {
    const error = await rejection(importDataset({ path: work, dataDir, name: '../escape' }))
    expect(error.reason).toBe('invalid')
    expect(error.subject).toBe('../escape')
    expect((await rejection(importDataset({ path: work, dataDir, name: 'downloads' }))).message).toContain('reserved')
  })
})

describe('importDataset: extracted CIFAR folders', () => {
  async function writeCifarFolder(dir: string, records = 2): Promise<void> {
    await mkdir(dir, { recursive: true })
    for (const m of officialMembers('cifar10', records)) {
      if (m.data) await writeFile(join(dir, m.name.split('/').at(-1) as string), m.data)
    }
  }

  it('registers the folder in place (found inside its parent too), nothing copied', async () => {
    const parent = join(work, 'downloads-by-hand')
    await writeCifarFolder(join(parent, 'cifar-10-batches-bin'))
    const d = await importDataset({ path: parent, dataDir })
    expect(d).toMatchObject({ name: 'cifar10', managed: false, location: join(parent, 'cifar-10-batches-bin'), counts: { train: 10, test: 2 } })
    expect(d.classes.map((c) => c.name)).toEqual(CIFAR10_NAMES)
    expect(d.source).toEqual({ type: 'folder', path: join(parent, 'cifar-10-batches-bin') })
    expect(existsSync(join(dataDir, 'cifar10'))).toBe(false)
    // The same folder twice is refused, whatever the name.
    const error = await rejection(importDataset({ path: join(parent, 'cifar-10-batches-bin'), dataDir, name: 'again' }))
    expect(error.message).toContain('already in the library as "cifar10"')
  })

  it('rejects a batch file with a partial record, naming it', async () => {
    const dir = join(work, 'broken')
    await writeCifarFolder(dir)
    await writeFile(join(dir, 'data_batch_2.bin'), new Uint8Array(3073 + 100))
    const error = await rejection(importDataset({ path: dir, dataDir }))
    expect(error.reason).toBe('data')
    expect(error.subject).toBe(join(dir, 'data_batch_2.bin'))
    expect(error.message).toContain('3,173 bytes')
    expect((await listLibrary(dataDir)).datasets).toEqual([])
  })
})

describe('importDataset: image folders', () => {
  it('decodes every image, lists unreadable files with a count, and registers the rest', async () => {
    const root = join(work, 'Urban Tribes')
    for (const split of ['train', 'test']) {
      for (const [c, cls] of ['bikers', 'goths', 'surfers'].entries()) {
        for (let i = 0; i < 3; i++) await writeImage(join(root, split, cls, `${i}.${i % 2 ? 'png' : 'jpg'}`), 40, 30, i % 2 ? 'png' : 'jpeg', 40 * c + i)
      }
    }
    // A truncated JPEG, a text file named .png, and a note that is not an image at all (ignored).
    const good = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } }).jpeg().toBuffer()
    await writeFile(join(root, 'train', 'goths', 'cut.jpg'), good.subarray(0, good.length / 2))
    await writeFile(join(root, 'test', 'surfers', 'fake.png'), 'not a png')
    await writeFile(join(root, 'train', 'bikers', 'notes.txt'), 'ignored')

    const progress: LibraryProgress[] = []
    const d = await importDataset({ path: root, dataDir, onProgress: (p) => progress.push(p) })
    expect(d).toMatchObject({ name: 'Urban-Tribes', kind: 'folder', title: 'Urban Tribes', managed: false, location: root, datasetIds: [`folder:${root}`] })
    expect(d.classes).toEqual([
      { name: 'bikers', train: 3, test: 3 },
      { name: 'goths', train: 3, test: 3 },
      { name: 'surfers', train: 3, test: 3 }
    ])
    expect(d.counts).toEqual({ train: 9, test: 9 })
    expect(d.imageSize).toEqual({ width: 40, height: 30 })
    expect(d.unreadableCount).toBe(2)
    expect(d.unreadable.map((u) => u.file)).toEqual([join(root, 'test', 'surfers', 'fake.png'), join(root, 'train', 'goths', 'cut.jpg')])
    for (const u of d.unreadable) expect(u.reason.length).toBeGreaterThan(0)

    const decoding = progress.filter((p) => p.state === 'decoding')
    expect(decoding.at(-1)).toMatchObject({ done: 20, total: 20, unit: 'files' })
    expect(progress[0].state).toBe('scanning')
    // The folder reader sees the same images (lenient about the unreadable ones).
    const loaded = await readImageFolder(root, { onUnreadable: 'skip' })
    expect(loaded.skipped).toHaveLength(2)
  })

  it('says null for the image size when sizes differ', async () => {
    const root = join(work, 'mixed')
    await writeImage(join(root, 'a', '1.png'), 10, 10, 'png')
    await writeImage(join(root, 'b', '1.png'), 12, 10, 'png')
    const d = await importDataset({ path: root, dataDir })
    expect(d.imageSize).toBeNull()
    expect(d.counts).toEqual({ train: 2, test: 0 })
  })

  it('rejects a class folder with no readable image, and a folder with no classes', async () => {
    const root = join(work, 'bad')
    await writeImage(join(root, 'ok', '1.png'), 8, 8, 'png')
    await mkdir(join(root, 'broken'), { recursive: true })
    await writeFile(join(root, 'broken', 'x.jpg'), 'nope')
    const error = await rejection(importDataset({ path: root, dataDir }))
    expect(error.reason).toBe('data')
    expect(error.subject).toBe(join(root, 'broken'))
    expect(error.message).toContain('no readable image (1 unreadable)')

    const empty = join(work, 'empty')
    await mkdir(empty)
    expect((await rejection(importDataset({ path: empty, dataDir }))).message).toContain('no class folders')
    expect((await listLibrary(dataDir)).datasets).toEqual([])
  })

  it('can be cancelled while decoding; nothing is registered', async () => {
    const root = join(work, 'many')
    for (let i = 0; i < 12; i++) await writeImage(join(root, `c${i % 3}`, `${i}.png`), 16, 16, 'png')
    const controller = new AbortController()
    const error = await rejection(
      importDataset({
        path: root,
        dataDir,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.state === 'decoding' && p.done >= 2) controller.abort()
        }
      })
    )
    expect(error.reason).toBe('cancelled')
    expect((await listLibrary(dataDir)).datasets).toEqual([])
  })
})
