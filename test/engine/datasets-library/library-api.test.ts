/**
 * The library requests end to end through the real API object and the renderer's own RPC client
 * (messages structured-cloned as Electron IPC does): validation, job events, typed errors.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchServer } from '../../../src/engine/api/create-workbench-server'
import type { WorkbenchClient } from '../../../src/shared/rpc-client'
import type { WorkbenchEvent } from '../../../src/shared/contract'
import { ApiError } from '../../../src/shared/contract-errors'
import { connectInMemory, createTestServer, recordEvents } from '../../api/workbench-harness'
import { buildArchive, makeTempDir, md5, officialMembers, removeDir, startArchiveServer, type TestServer } from './library-fixtures'

let server: WorkbenchServer
let serverDir: string
let dir: string
let client: WorkbenchClient
let http: TestServer

beforeAll(async () => {
  dir = await makeTempDir('api')
  ;({ server, dir: serverDir } = await createTestServer({ dataDir: join(dir, 'data') }))
  client = connectInMemory(server)
})
afterAll(async () => {
  client?.close()
  await server?.shutdown()
  await http?.close()
  await removeDir(dir)
  await removeDir(serverDir)
})

describe('library API over the RPC client', () => {
  it('downloads CIFAR-10 from a local server as a job and lists it', async () => {
    const archive = await buildArchive(officialMembers('cifar10', 2))
    http = await startArchiveServer(archive)
    const recorder = recordEvents(client)
    const { jobId } = await client.api.downloadDataset({ dataset: 'cifar10', url: http.url, md5: md5(archive) })
    const end = await recorder.waitFor((e: WorkbenchEvent) => e.type === 'library:job' && e.job.jobId === jobId && e.job.finishedAt !== null, 30_000)
    expect(end.type === 'library:job' && end.job.state).toBe('done')
    // The job's progress as its library:job events: bytes counted up to the archive's size.
    const progress = recorder.events.flatMap((e) => (e.type === 'library:job' && e.job.jobId === jobId ? [e.job] : []))
    expect(progress.length).toBeGreaterThan(1)
    expect(progress.at(-1)).toMatchObject({ state: 'done', kind: 'download', target: 'cifar10' })
    expect(progress.some((job) => job.state === 'downloading' && job.unit === 'bytes' && job.total === archive.length)).toBe(true)
    await recorder.waitFor((e: WorkbenchEvent) => e.type === 'library:changed', 10_000)
    const listing = await client.api.listLibrary()
    expect(listing.dataDir).toBe(join(dir, 'data'))
    expect(listing.datasets.map((d) => [d.name, d.counts.train, d.counts.test, d.available])).toEqual([['cifar10', 10, 2, true]])
    expect((await client.api.listLibraryJobs())[0]).toMatchObject({ jobId, state: 'done' })
  })

  it('rejects invalid input before any work, as a typed error', async () => {
    const error = await client.api.downloadDataset({ dataset: 'cifar10', url: 'file:///etc/passwd' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).code).toBe('invalid-request')
    const missing = await client.api.importDataset({ path: join(dir, 'not-here') }).catch((e: unknown) => e)
    expect((missing as ApiError).code).toBe('not-found')
  })
})
