import { existsSync } from 'node:fs'
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readCifar10, readCifar100 } from '../../../src/engine/data/cifar-binary'
import { downloadDataset, type DownloadDatasetOptions } from '../../../src/engine/datasets-library/download-dataset'
import { LibraryError } from '../../../src/engine/datasets-library/library-error'
import { listLibrary } from '../../../src/engine/datasets-library/library-listing'
import type { LibraryProgress } from '../../../src/engine/datasets-library/library-progress'
import {
  buildArchive,
  CIFAR10_NAMES,
  CIFAR100_COARSE,
  closedPortUrl,
  md5,
  makeTempDir,
  officialMembers,
  removeDir,
  startArchiveServer,
  type TestMember,
  type TestServer
} from './library-fixtures'

let dataDir: string
let server: TestServer | undefined

beforeEach(async () => {
  dataDir = await makeTempDir('download')
})
afterEach(async () => {
  await server?.close()
  server = undefined
  await removeDir(dataDir)
})

/** Short retry and stall times: these servers are local. */
const fast = { retryDelayMs: 20, stallTimeoutMs: 5000 }

async function serve(members: TestMember[] = officialMembers('cifar10'), behaviour = {}, gzip = true): Promise<{ archive: Buffer; server: TestServer }> {
  const archive = await buildArchive(members, { gzip })
  server = await startArchiveServer(archive, 'cifar-10-binary.tar.gz', behaviour)
  return { archive, server }
}

async function expectLibraryError(promise: Promise<unknown>, reason: string, ...parts: (string | RegExp)[]): Promise<LibraryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error, 'expected a LibraryError').toBeInstanceOf(LibraryError)
  const e = error as LibraryError
  expect(e.reason, e.message).toBe(reason)
  for (const part of parts) {
    if (typeof part === 'string') expect(e.message).toContain(part)
    else expect(e.message).toMatch(part)
  }
  return e
}

/** Everything under a folder (relative paths), for "nothing left behind" checks. */
async function tree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    out.push(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name).slice(dir.length + 1))
  }
  return out.sort()
}

/** The library holds nothing and the data folder holds no dataset, staging folder or download. */
async function expectNothingRegistered(): Promise<void> {
  expect((await listLibrary(dataDir)).datasets).toEqual([])
  const left = (await tree(dataDir)).filter((p) => !p.startsWith('downloads'))
  expect(left).toEqual([])
}

function download(options: Partial<DownloadDatasetOptions>): ReturnType<typeof downloadDataset> {
  return downloadDataset({ dataset: 'cifar10', dataDir, ...fast, ...options })
}

describe('downloadDataset: the whole way from a real socket into the library', () => {
  it('downloads, verifies, extracts the official members and registers CIFAR-10 with counts', async () => {
    const { archive, server } = await serve()
    const progress: LibraryProgress[] = []
    const result = await download({ url: server.url, md5: md5(archive), onProgress: (p) => progress.push(p) })

    expect(result.alreadyPresent).toBe(false)
    expect(result.download).toMatchObject({ url: server.url, bytes: archive.length, md5: md5(archive), resumedFromBytes: 0, attempts: 1 })
    const d = result.dataset
    expect(d).toMatchObject({ name: 'cifar10', kind: 'cifar10', title: 'CIFAR-10', managed: true, available: true, location: join(dataDir, 'cifar10') })
    expect(d.datasetIds).toEqual([`cifar10:${join(dataDir, 'cifar10')}`])
    expect(d.imageSize).toEqual({ width: 32, height: 32 })
    // 5 train files and 1 test file of 3 records, labels 0,1,2 in each.
    expect(d.counts).toEqual({ train: 15, test: 3 })
    expect(d.classes.map((c) => c.name)).toEqual(CIFAR10_NAMES)
    expect(d.classes.slice(0, 4)).toEqual([
      { name: 'airplane', train: 5, test: 1 },
      { name: 'automobile', train: 5, test: 1 },
      { name: 'bird', train: 5, test: 1 },
      { name: 'cat', train: 0, test: 0 }
    ])
    expect(d.source).toEqual({ type: 'download', url: server.url, md5: md5(archive), bytes: archive.length })
    expect(d.bytesOnDisk).toBe(6 * 3 * 3073 + (await stat(join(d.location, 'batches.meta.txt'))).size + (await stat(join(d.location, 'readme.html'))).size)

    // Exactly the release's members, flat; the download itself is gone.
    expect(await readdir(d.location)).toEqual(['batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'readme.html', 'test_batch.bin'])
    expect(await tree(join(dataDir, 'downloads'))).toEqual([])
    expect((await readdir(dataDir)).filter((n) => n.startsWith('.'))).toEqual([])

    // Progress: each step in order, download bytes rising to the archive's length.
    const states = progress.map((p) => p.state).filter((s, i, all) => s !== all[i - 1])
    expect(states).toEqual(['downloading', 'verifying', 'extracting', 'verifying', 'registering'])
    const downloading = progress.filter((p) => p.state === 'downloading' && p.total !== null)
    expect(downloading.at(-1)).toMatchObject({ done: archive.length, total: archive.length, unit: 'bytes' })
    for (let i = 1; i < downloading.length; i++) expect(downloading[i].done).toBeGreaterThanOrEqual(downloading[i - 1].done)

    // The existing reader loads what was registered.
    const loaded = await readCifar10(d.location)
    expect(loaded.splits.train?.labels.length).toBe(15)
    expect(loaded.classNames).toEqual(CIFAR10_NAMES)

    // The index on disk says the same, and lists it again.
    const index = JSON.parse(await readFile(join(dataDir, 'library.json'), 'utf8')) as { version: number; datasets: unknown[] }
    expect(index.version).toBe(1)
    expect((await listLibrary(dataDir)).datasets).toEqual([d])
  })

  it('a second download of a registered dataset makes no request', async () => {
    const { archive, server } = await serve()
    await download({ url: server.url, md5: md5(archive) })
    const before = server.requests.length
    const again = await download({ url: server.url, md5: md5(archive) })
    expect(again.alreadyPresent).toBe(true)
    expect(again.download).toBeNull()
    expect(server.requests.length).toBe(before)
  })

  it('downloads again when the registered folder went missing, replacing the entry', async () => {
    const { archive, server } = await serve()
    const first = await download({ url: server.url, md5: md5(archive) })
    await removeDir(first.dataset.location)
    expect((await listLibrary(dataDir)).datasets[0].available).toBe(false)
    const again = await download({ url: server.url, md5: md5(archive) })
    expect(again.alreadyPresent).toBe(false)
    expect((await listLibrary(dataDir)).datasets).toEqual([again.dataset])
    expect(again.dataset.available).toBe(true)
  })

  it('registers CIFAR-100 with fine classes, coarse names and both dataset ids', async () => {
    const archive = await buildArchive(officialMembers('cifar100', 4))
    server = await startArchiveServer(archive, 'cifar-100-binary.tar.gz')
    const { dataset } = await downloadDataset({ dataset: 'cifar100', dataDir, url: server.url, md5: md5(archive), ...fast })
    expect(dataset.counts).toEqual({ train: 4, test: 4 })
    expect(dataset.classes).toHaveLength(100)
    expect(dataset.coarseClassNames).toEqual(CIFAR100_COARSE)
    expect(dataset.datasetIds).toEqual([`cifar100:${dataset.location}`, `cifar100-coarse:${dataset.location}`])
    const coarse = await readCifar100(dataset.location, { labels: 'coarse' })
    expect(coarse.classNames).toHaveLength(20)
  })
})

describe('downloadDataset: interrupted transfers resume by HTTP Range', () => {
  it('resumes within one call after the server cuts the connection', async () => {
    const { archive, server } = await serve(undefined, { dropAfter: { bytes: 20_000, times: 2 } })
    expect(archive.length).toBeGreaterThan(40_000)
    const result = await download({ url: server.url, md5: md5(archive) })
    expect(result.download?.attempts).toBe(3)
    // Each retry asks for the bytes after those it kept (all 20,000 sent, unless the cut lost a few in flight).
    const [first, second, third] = server.requests.map((r) => r.range)
    expect(first).toBeUndefined()
    const kept1 = Number(/^bytes=(\d+)-$/.exec(second ?? '')?.[1])
    const kept2 = Number(/^bytes=(\d+)-$/.exec(third ?? '')?.[1])
    expect(kept1).toBeGreaterThan(0)
    expect(kept1).toBeLessThanOrEqual(20_000)
    expect(kept2).toBeGreaterThan(kept1)
    expect(kept2).toBeLessThanOrEqual(kept1 + 20_000)
    // The validator from the first answer guards each resumed range.
    expect(server.requests[1].ifRange).toBe('"v1"')
    expect(result.dataset.counts.train).toBe(15)
  })

  it('resumes across calls: a cancelled download keeps its partial file, the next call asks for the rest', async () => {
    const { archive, server } = await serve(undefined, { stallAfter: 16_384 })
    const controller = new AbortController()
    const first = download({
      url: server.url,
      md5: md5(archive),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.state === 'downloading' && p.done >= 16_384) controller.abort()
      }
    })
    await expectLibraryError(first, 'cancelled', 'partial file')
    const part = join(dataDir, 'downloads', 'cifar-10-binary.tar.gz.part')
    expect((await stat(part)).size).toBe(16_384)
    expect((await listLibrary(dataDir)).datasets).toEqual([])

    server.behaviour.stallAfter = undefined
    const progress: LibraryProgress[] = []
    const result = await download({ url: server.url, md5: md5(archive), onProgress: (p) => progress.push(p) })
    expect(server.requests.at(-1)?.range).toBe('bytes=16384-')
    expect(result.download).toMatchObject({ resumedFromBytes: 16_384, bytes: archive.length })
    expect(progress.find((p) => p.state === 'downloading' && p.total !== null)?.resumedFromBytes).toBe(16_384)
    expect(existsSync(part)).toBe(false)
  })

  it('starts over when the server ignores the range, and the result is still right', async () => {
    const { archive, server } = await serve(undefined, { dropAfter: { bytes: 10_000, times: 1 }, ignoreRange: true })
    const result = await download({ url: server.url, md5: md5(archive) })
    expect(server.requests[1].range).toMatch(/^bytes=[1-9]\d*-$/)
    expect(result.download?.bytes).toBe(archive.length)
    expect(result.dataset.counts.test).toBe(3)
  })

  it('does not splice bytes of another URL: a partial file with other notes is discarded', async () => {
    const { archive, server } = await serve()
    const part = join(dataDir, 'downloads', 'cifar-10-binary.tar.gz.part')
    await mkdir(dirname(part), { recursive: true })
    await writeFile(part, Buffer.alloc(5000, 1))
    await writeFile(`${part}.json`, JSON.stringify({ url: 'http://127.0.0.1:1/elsewhere.tar.gz', validator: null, totalBytes: null }))
    await download({ url: server.url, md5: md5(archive) })
    expect(server.requests[0].range).toBeUndefined()
  })

  it('gives up after the retries with the partial file kept and says how to resume', async () => {
    const { archive, server } = await serve(undefined, { dropAfter: { bytes: 8_000, times: 10 } })
    const error = await expectLibraryError(download({ url: server.url, md5: md5(archive), retries: 2 }), 'interrupted', 'broke off', 'run the download again')
    expect(error.subject).toBe(server.url)
    const kept = (await stat(join(dataDir, 'downloads', 'cifar-10-binary.tar.gz.part'))).size
    expect(kept).toBeGreaterThan(8_000)
    expect(kept).toBeLessThanOrEqual(24_000)
    expect(error.message).toContain(`after ${kept} of ${archive.length} bytes`)
    expect((await listLibrary(dataDir)).datasets).toEqual([])
  })
})

describe('downloadDataset: nothing is registered when something is wrong', () => {
  it('a wrong checksum fails, deletes the download and registers nothing', async () => {
    const { archive, server } = await serve()
    const wrong = '0123456789abcdef0123456789abcdef'
    const error = await expectLibraryError(download({ url: server.url, md5: wrong }), 'checksum', server.url, md5(archive), wrong, 'deleted')
    expect(error.message).toContain('nothing was registered')
    expect(await tree(join(dataDir, 'downloads'))).toEqual([])
    await expectNothingRegistered()
  })

  it('a truncated archive (with a matching checksum) is rejected as damaged', async () => {
    const full = await buildArchive(officialMembers('cifar10'))
    const truncated = full.subarray(0, Math.floor(full.length * 0.6))
    server = await startArchiveServer(truncated)
    await expectLibraryError(download({ url: server.url, md5: md5(truncated) }), 'archive', 'damaged or truncated')
    await expectNothingRegistered()
  })

  it('an archive cut at a member boundary is rejected for the members it lacks', async () => {
    const members = officialMembers('cifar10').filter((m) => !m.name.endsWith('test_batch.bin'))
    const { archive, server } = await serve(members, {}, false)
    await expectLibraryError(download({ url: server.url, md5: md5(archive) }), 'archive', 'lacks cifar-10-batches-bin/test_batch.bin')
    await expectNothingRegistered()
  })

  it('a member with ../ in its name is rejected and nothing is written outside (or inside)', async () => {
    const members = [...officialMembers('cifar10'), { name: 'cifar-10-batches-bin/../../escaped.txt', data: Buffer.from('gotcha') }]
    const { archive, server } = await serve(members)
    await expectLibraryError(download({ url: server.url, md5: md5(archive) }), 'archive', '"cifar-10-batches-bin/../../escaped.txt"', 'outside')
    expect(existsSync(join(dataDir, '..', 'escaped.txt'))).toBe(false)
    expect(existsSync(join(dataDir, 'escaped.txt'))).toBe(false)
    await expectNothingRegistered()
  })

  it('an absolute member path and a symbolic link are rejected too', async () => {
    for (const bad of [
      { name: '/tmp/tw-absolute.txt', data: Buffer.from('x') },
      { name: 'cifar-10-batches-bin/test_batch.bin', type: 'symlink' as const, linkname: '/etc/passwd' }
    ]) {
      const members = [...officialMembers('cifar10').filter((m) => !m.name.endsWith('test_batch.bin')), bad]
      const { archive, server } = await serve(members)
      await expectLibraryError(download({ url: server.url, md5: md5(archive) }), 'archive', bad.name)
      await expectNothingRegistered()
      await server.close()
    }
    expect(existsSync('/tmp/tw-absolute.txt')).toBe(false)
  })

  it('a data member with a corrupt record length is rejected before it is written', async () => {
    const members = officialMembers('cifar10').map((m) => (m.name.endsWith('data_batch_3.bin') ? { ...m, data: new Uint8Array(3 * 3073 + 5) } : m))
    const { archive, server } = await serve(members)
    await expectLibraryError(download({ url: server.url, md5: md5(archive) }), 'data', 'data_batch_3.bin', '9,224 bytes', '3,073-byte records')
    await expectNothingRegistered()
  })

  it('a label byte outside the class list is rejected naming the record', async () => {
    const members = officialMembers('cifar10').map((m) => {
      if (!m.name.endsWith('test_batch.bin')) return m
      const data = new Uint8Array(m.data as Uint8Array)
      data[2 * 3073] = 12
      return { ...m, data }
    })
    const { archive, server } = await serve(members)
    await expectLibraryError(download({ url: server.url, md5: md5(archive) }), 'data', 'test_batch.bin', 'record 2', 'label byte 12')
    await expectNothingRegistered()
  })

  it('another release under the expected name is not accepted as CIFAR-10', async () => {
    const { archive, server } = await serve(officialMembers('cifar100'))
    await expectLibraryError(download({ url: server.url, md5: md5(archive) }), 'archive', 'lacks cifar-10-batches-bin/', 'cifar-100-binary/')
    await expectNothingRegistered()
  })
})

describe('downloadDataset: unreachable servers and wrong answers', () => {
  it('offline: a clear message naming the URL, at once, with the manual alternative', async () => {
    const url = await closedPortUrl()
    const started = performance.now()
    const error = await expectLibraryError(download({ url, md5: '0123456789abcdef0123456789abcdef' }), 'offline', url, 'cannot reach', 'ECONNREFUSED')
    // No retry loop before telling the user they are offline.
    expect(performance.now() - started).toBeLessThan(3000)
    expect(error.manual).toContain('dataset import cifar-10-binary.tar.gz')
    expect(error.manual).toContain(url)
    await expectNothingRegistered()
  })

  it('HTTP 404 names the status and the URL', async () => {
    const { server } = await serve()
    await expectLibraryError(download({ url: `${server.url}.missing`, md5: '0123456789abcdef0123456789abcdef' }), 'http', 'HTTP 404', `${server.url}.missing`)
  })

  it('a server error is retried, then reported as HTTP with the status', async () => {
    const { server } = await serve(undefined, { status: 503 })
    await expectLibraryError(download({ url: server.url, md5: '0123456789abcdef0123456789abcdef', retries: 1 }), 'http', 'HTTP 503', '2 tries')
    expect(server.requests).toHaveLength(2)
  })

  it('a mirror without --md5 must serve the official size: a different file is refused before downloading it', async () => {
    const { server } = await serve()
    await expectLibraryError(download({ url: server.url }), 'http', 'should be 170052171 bytes')
  })

  it('rejects a bad MD5 and a URL it cannot fetch, naming the value', async () => {
    await expectLibraryError(download({ md5: 'abc' }), 'invalid', 'abc', 'MD5')
    await expectLibraryError(download({ url: 'ftp://example.invalid/x.tar.gz' }), 'invalid', 'ftp://example.invalid/x.tar.gz')
  })

  it('takes a local copy as a file: URL, checked and extracted where it is', async () => {
    const archive = await buildArchive(officialMembers('cifar10'))
    const file = join(dataDir, '..', `${dataDir.split('/').at(-1)}-local.tar.gz`)
    await writeFile(file, archive)
    try {
      const result = await download({ url: `file://${file}`, md5: md5(archive) })
      expect(result.dataset.counts.train).toBe(15)
      expect(existsSync(file)).toBe(true) // the user's file is left alone
    } finally {
      await removeDir(file)
    }
  })
})
