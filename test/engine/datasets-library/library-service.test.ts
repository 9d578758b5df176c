import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLibraryService, type LibraryService } from '../../../src/engine/api/library-handlers'
import { parseRequestArgs } from '../../../src/engine/api/request-schemas'
import type { WorkbenchEvent } from '../../../src/shared/contract'
import type { LibraryJob } from '../../../src/shared/library'
import { ApiError } from '../../../src/shared/contract-errors'
import { buildArchive, closedPortUrl, makeTempDir, md5, officialMembers, removeDir, startArchiveServer, type TestServer } from './library-fixtures'

let work: string
let dataDir: string
let events: WorkbenchEvent[]
let service: LibraryService
let server: TestServer | undefined

beforeEach(async () => {
  work = await makeTempDir('service')
  dataDir = join(work, 'data')
  events = []
  service = createLibraryService({ dataDir: () => dataDir, emit: (e) => events.push(e), progressIntervalMs: 20, downloadTuning: { retryDelayMs: 20, stallTimeoutMs: 5000 } })
})
afterEach(async () => {
  await service.idle()
  await server?.close()
  server = undefined
  await removeDir(work)
})

const jobEvents = (jobId: string): LibraryJob[] => events.flatMap((e) => (e.type === 'library:job' && e.job.jobId === jobId ? [e.job] : []))

async function waitForEnd(jobId: string): Promise<LibraryJob> {
  await service.idle()
  return jobEvents(jobId).at(-1) as LibraryJob
}

async function slowServer(): Promise<{ archive: Buffer; server: TestServer }> {
  const archive = await buildArchive(officialMembers('cifar10', 4))
  // ~80 KB in 4 KB pieces every 25 ms: about half a second, long enough to measure and to cancel.
  server = await startArchiveServer(archive, 'cifar-10-binary.tar.gz', { trickle: { bytes: 4096, everyMs: 25 } })
  return { archive, server }
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(ApiError)
  return error as ApiError
}

describe('library service: download jobs', () => {
  it('answers with a job id at once and reports bytes, rate and ETA, then the registered dataset', async () => {
    const { archive, server } = await slowServer()
    const { jobId } = await service.downloadDataset({ dataset: 'cifar10', url: server.url, md5: md5(archive) })
    expect(jobId).toMatch(/^dl-/)
    const end = await waitForEnd(jobId)
    expect(end).toMatchObject({ state: 'done', kind: 'download', target: 'cifar10', error: null, failure: null })
    expect(end.dataset?.counts).toEqual({ train: 20, test: 4 })
    expect(end.finishedAt).not.toBeNull()

    const seen = jobEvents(jobId)
    const downloading = seen.filter((j) => j.state === 'downloading' && j.total !== null)
    expect(downloading.length).toBeGreaterThan(3)
    expect(downloading.some((j) => j.bytesPerSecond !== null && j.bytesPerSecond > 0 && j.etaSeconds !== null)).toBe(true)
    expect(downloading.every((j) => j.unit === 'bytes' && j.total === archive.length)).toBe(true)
    // Every step is announced, in order.
    const states = seen.map((j) => j.state).filter((s, i, all) => s !== all[i - 1])
    expect(states).toEqual(['downloading', 'verifying', 'extracting', 'verifying', 'registering', 'done'])

    const changed = events.filter((e) => e.type === 'library:changed')
    expect(changed).toHaveLength(1)
    expect(changed[0].type === 'library:changed' && changed[0].listing.datasets.map((d) => d.name)).toEqual(['cifar10'])
    expect((await service.listLibrary()).datasets).toHaveLength(1)
  })

  it('cancels a running download, keeps the partial file, and the next download resumes it', async () => {
    const { archive, server } = await slowServer()
    const { jobId } = await service.downloadDataset({ dataset: 'cifar10', url: server.url, md5: md5(archive) })
    // A second download of the same dataset while the first runs is refused.
    expect((await rejection(service.downloadDataset({ dataset: 'cifar10', url: server.url }))).code).toBe('busy')
    await new Promise((r) => setTimeout(r, 150))
    await service.cancelLibraryJob({ jobId })
    const end = await waitForEnd(jobId)
    expect(end).toMatchObject({ state: 'cancelled', failure: 'cancelled', dataset: null })
    expect((await service.listLibraryJobs())[0]).toMatchObject({ jobId, state: 'cancelled' })
    expect((await service.listLibrary()).datasets).toEqual([])

    const again = await service.downloadDataset({ dataset: 'cifar10', url: server.url, md5: md5(archive) })
    const done = await waitForEnd(again.jobId)
    expect(done.state).toBe('done')
    expect(done.resumedFromBytes).toBeGreaterThan(0)
    expect(server.requests.at(-1)?.range).toMatch(/^bytes=[1-9]\d*-$/)
  })

  it('reports an unreachable server as failed with the reason and the manual alternative', async () => {
    const { jobId } = await service.downloadDataset({ dataset: 'cifar100', url: await closedPortUrl('cifar-100-binary.tar.gz') })
    const end = await waitForEnd(jobId)
    expect(end).toMatchObject({ state: 'failed', failure: 'offline', error: { name: 'ApiError', code: 'dataset' } })
    expect(end.manual).toContain('03b5dce01913d631647c71ecec9e9cb8')
    expect(end.message).toContain('cannot reach')
  })
})

describe('library service: imports and removal', () => {
  it('imports a folder as a job and removes it again, announcing both', async () => {
    const root = join(work, 'pets')
    for (const c of ['cat', 'dog']) {
      await mkdir(join(root, c), { recursive: true })
      await writeFile(join(root, c, '1.png'), await sharp({ create: { width: 9, height: 9, channels: 3, background: '#aa3300' } }).png().toBuffer())
    }
    const { jobId } = await service.importDataset({ path: root })
    expect(jobId).toMatch(/^im-/)
    expect((await waitForEnd(jobId)).dataset).toMatchObject({ name: 'pets', counts: { train: 2, test: 0 }, imageSize: { width: 9, height: 9 } })
    const removed = await service.removeDataset({ name: 'pets' })
    expect(removed.location).toBe(root)
    const changed = events.filter((e) => e.type === 'library:changed')
    expect(changed).toHaveLength(2)
    expect(changed[1].type === 'library:changed' && changed[1].listing.datasets).toEqual([])
  })

  it('answers a missing path and an unknown dataset with typed errors, at once', async () => {
    expect((await rejection(service.importDataset({ path: join(work, 'missing') }))).code).toBe('not-found')
    expect((await rejection(service.removeDataset({ name: 'nothing' }))).code).toBe('not-found')
    expect((await rejection(service.cancelLibraryJob({ jobId: 'dl-000' }))).code).toBe('not-found')
  })
})

describe('library requests: input validation', () => {
  it('accepts well-formed inputs', () => {
    expect(parseRequestArgs('downloadDataset', [{ dataset: 'cifar10' }])).toEqual([{ dataset: 'cifar10' }])
    expect(parseRequestArgs('downloadDataset', [{ dataset: 'cifar100', url: 'https://mirror.example/c.tgz', md5: 'C32A1D4AB5D03F1284B67883E8D87530' }])).toHaveLength(1)
    expect(parseRequestArgs('importDataset', [{ path: '/data/photos', name: 'photos' }])).toHaveLength(1)
    expect(parseRequestArgs('removeDataset', [{ name: 'cifar10', deleteFiles: true }])).toHaveLength(1)
    expect(parseRequestArgs('listLibrary', [])).toEqual([])
  })

  it('rejects what the renderer must not ask for', () => {
    const bad: [Parameters<typeof parseRequestArgs>[0], unknown][] = [
      ['downloadDataset', { dataset: 'imagenet' }],
      ['downloadDataset', { dataset: 'cifar10', url: 'file:///etc/passwd' }],
      ['downloadDataset', { dataset: 'cifar10', md5: 'xyz' }],
      ['downloadDataset', { dataset: 'cifar10', extra: 1 }],
      ['importDataset', { path: 'relative/path' }],
      ['importDataset', { path: '/ok', name: '../escape' }],
      ['removeDataset', { name: '' }],
      ['cancelLibraryJob', { jobId: '../../x' }]
    ]
    for (const [name, input] of bad) expect(() => parseRequestArgs(name, [input]), `${name} ${JSON.stringify(input)}`).toThrow()
  })
})
