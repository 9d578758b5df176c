import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { memberParts } from '../../../src/engine/datasets-library/cifar-archive'
import { platformDataDir, resolveDataDir } from '../../../src/engine/datasets-library/data-dir'
import { importDataset } from '../../../src/engine/datasets-library/import-dataset'
import { LibraryError } from '../../../src/engine/datasets-library/library-error'
import { nameFromPath, readLibraryIndex } from '../../../src/engine/datasets-library/library-index'
import { withFileLock } from '../../../src/engine/datasets-library/library-lock'
import { listLibrary } from '../../../src/engine/datasets-library/library-listing'
import { removeDataset } from '../../../src/engine/datasets-library/remove-dataset'
import { createRateMeter } from '../../../src/engine/datasets-library/transfer-rate'
import { buildArchive, makeTempDir, officialMembers, removeDir } from './library-fixtures'

let work: string
let dataDir: string

beforeEach(async () => {
  work = await makeTempDir('index')
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

async function imageFolder(name: string, classes = ['a', 'b']): Promise<string> {
  const root = join(work, name)
  for (const c of classes) {
    await mkdir(join(root, c), { recursive: true })
    await writeFile(join(root, c, '1.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } }).png().toBuffer())
  }
  return root
}

async function importArchive(): Promise<void> {
  const file = join(work, 'c10.tar.gz')
  await writeFile(file, await buildArchive(officialMembers('cifar10', 1)))
  await importDataset({ path: file, dataDir })
}

describe('library index', () => {
  it('is empty before anything is registered, and says where it lives', async () => {
    expect(await listLibrary(dataDir)).toEqual({ dataDir, datasets: [] })
  })

  it('names the file and the entry when it cannot be understood', async () => {
    await mkdir(dataDir, { recursive: true })
    await writeFile(join(dataDir, 'library.json'), '{"version": 1, "datasets": [')
    const broken = await rejection(listLibrary(dataDir))
    expect(broken.reason).toBe('index')
    expect(broken.subject).toBe(join(dataDir, 'library.json'))
    expect(broken.message).toContain('not valid JSON')

    await writeFile(join(dataDir, 'library.json'), JSON.stringify({ version: 1, datasets: [{ name: 'x' }] }))
    expect((await rejection(listLibrary(dataDir))).message).toMatch(/datasets\.0\.\w+/)
  })

  it('keeps every registration when several run at once (the lock serializes read-modify-write)', async () => {
    const roots = await Promise.all(['one', 'two', 'three', 'four'].map((n) => imageFolder(n)))
    await Promise.all(roots.map((path) => importDataset({ path, dataDir })))
    expect((await listLibrary(dataDir)).datasets.map((d) => d.name)).toEqual(['four', 'one', 'three', 'two'])
    expect(existsSync(join(dataDir, 'library.json.lock'))).toBe(false)
  })

  it('is written atomically: no temp file is left beside it', async () => {
    await importDataset({ path: await imageFolder('one'), dataDir })
    expect(await readdir(dataDir)).toEqual(['library.json'])
    expect(JSON.parse(await readFile(join(dataDir, 'library.json'), 'utf8'))).toMatchObject({ version: 1, datasets: [{ name: 'one' }] })
  })

  it('marks a dataset whose folder went missing as unavailable', async () => {
    const root = await imageFolder('gone')
    await importDataset({ path: root, dataDir })
    await removeDir(root)
    expect((await listLibrary(dataDir)).datasets[0]).toMatchObject({ name: 'gone', available: false })
  })
})

describe('removeDataset', () => {
  it('removes a downloaded/extracted dataset and, when asked, its files', async () => {
    await importArchive()
    const location = join(dataDir, 'cifar10')
    const removed = await removeDataset({ dataDir, name: 'cifar10', deleteFiles: true })
    expect(removed).toMatchObject({ name: 'cifar10', location })
    expect(existsSync(location)).toBe(false)
    expect(await readLibraryIndex(dataDir)).toEqual([])
    expect((await readdir(dataDir)).filter((n) => n.startsWith('.'))).toEqual([])
  })

  it('keeps the files unless asked', async () => {
    await importArchive()
    await removeDataset({ dataDir, name: 'cifar10' })
    expect(existsSync(join(dataDir, 'cifar10', 'test_batch.bin'))).toBe(true)
    expect(await readLibraryIndex(dataDir)).toEqual([])
  })

  it('never deletes a folder registered in place', async () => {
    const root = await imageFolder('mine')
    await importDataset({ path: root, dataDir })
    const error = await rejection(removeDataset({ dataDir, name: 'mine', deleteFiles: true }))
    expect(error.reason).toBe('invalid')
    expect(error.message).toContain(root)
    expect(existsSync(join(root, 'a', '1.png'))).toBe(true)
    expect((await listLibrary(dataDir)).datasets).toHaveLength(1)
    await removeDataset({ dataDir, name: 'mine' })
    expect(existsSync(join(root, 'a', '1.png'))).toBe(true)
  })

  it('an unknown name is not-found, listing the names there are', async () => {
    await importDataset({ path: await imageFolder('mine'), dataDir })
    const error = await rejection(removeDataset({ dataDir, name: 'cifar100' }))
    expect(error.reason).toBe('not-found')
    expect(error.message).toContain('(it has mine)')
  })
})

describe('archive member names', () => {
  it('accepts the official layout and rejects paths that leave the folder', () => {
    expect(memberParts('a.tgz', './cifar-10-batches-bin/data_batch_1.bin')).toEqual(['cifar-10-batches-bin', 'data_batch_1.bin'])
    for (const bad of ['../x', 'cifar-10-batches-bin/../../x', '/etc/passwd', 'C:/x', '..\\x', 'a/b/../../../x']) {
      expect(() => memberParts('a.tgz', bad), bad).toThrow(/outside the archive's folder/)
    }
  })
})

describe('names and folders', () => {
  it('makes library names from paths', () => {
    expect(nameFromPath('Urban Tribes')).toBe('Urban-Tribes')
    expect(nameFromPath('cifar-10-binary.tar.gz')).toBe('cifar-10-binary')
    expect(nameFromPath('...')).toBe('dataset')
    expect(nameFromPath('downloads')).toBe('dataset')
  })

  it('resolves the data folder: explicit, then the environment, then the platform default', () => {
    expect(resolveDataDir('/x/y', {})).toBe('/x/y')
    expect(resolveDataDir(undefined, { WORKBENCH_DATA_DIR: '/from/env' })).toBe('/from/env')
    expect(platformDataDir({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/transfer-workbench/datasets')
    expect(platformDataDir({}, 'linux', '/home/u')).toBe('/home/u/.local/share/transfer-workbench/datasets')
    expect(platformDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/Transfer Workbench/datasets')
  })
})

describe('file lock', () => {
  it('runs holders one at a time and takes over a stale lock', async () => {
    await mkdir(work, { recursive: true })
    const lock = join(work, 'x.lock')
    const order: string[] = []
    const hold = (name: string, ms: number) =>
      withFileLock(lock, async () => {
        order.push(`${name}+`)
        await new Promise((r) => setTimeout(r, ms))
        order.push(`${name}-`)
      })
    await Promise.all([hold('a', 30), hold('b', 5), hold('c', 5)])
    expect(order).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-'])

    // A lock file left by a dead process (old mtime) does not block forever.
    await writeFile(lock, '99999\n')
    const { utimes } = await import('node:fs/promises')
    await utimes(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
    await hold('d', 1)
    expect(order.at(-1)).toBe('d-')
  })
})

describe('transfer rate', () => {
  it('measures over a sliding window and estimates the time left', () => {
    let now = 0
    const meter = createRateMeter(() => now)
    expect(meter.bytesPerSecond()).toBeNull()
    for (let t = 0; t <= 10_000; t += 500) {
      now = t
      // 1 MB/s for 4 s, then 4 MB/s.
      meter.update(t <= 4000 ? t * 1000 : 4_000_000 + (t - 4000) * 4000)
    }
    // The last 5 s are all at the new rate: the window forgot the slow start.
    expect(meter.bytesPerSecond()).toBeCloseTo(4_000_000, -3)
    expect(meter.etaSeconds(8_000_000)).toBeCloseTo(2, 1)
    expect(meter.etaSeconds(null)).toBeNull()
    meter.reset()
    expect(meter.bytesPerSecond()).toBeNull()
  })
})

describe('abandoned staging folders', () => {
  it('are cleaned up by the next import once old, and fresh ones are left to their owner', async () => {
    const { utimes } = await import('node:fs/promises')
    const old = join(dataDir, '.staging-cifar10-deadbeef')
    const fresh = join(dataDir, '.staging-cifar10-cafecafe')
    await mkdir(join(old, 'x'), { recursive: true })
    await mkdir(fresh, { recursive: true })
    const dayAgo = new Date(Date.now() - 25 * 3600 * 1000)
    await utimes(old, dayAgo, dayAgo)
    await importArchive()
    expect(existsSync(old)).toBe(false)
    expect(existsSync(fresh)).toBe(true)
  })
})
