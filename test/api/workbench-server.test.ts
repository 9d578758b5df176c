import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import type { WorkbenchEvent } from '../../src/shared/contract'
import { ApiError } from '../../src/shared/contract-errors'
import { connectInMemory, createTestServer, recordEvents, runEnded, tinyRun } from './workbench-harness'

// The contract's handlers against the real engine: a real trainer process (wasm backend), the
// built-in demo dataset, a tiny model; reached through the renderer's own RPC client.
let server: WorkbenchServer
let client: WorkbenchClient
let recorder: ReturnType<typeof recordEvents>

beforeAll(async () => {
  ;({ server } = await createTestServer())
  client = connectInMemory(server)
  recorder = recordEvents(client)
})

afterAll(async () => {
  client.close()
  await server.shutdown()
})

/** The ApiError a request rejects with. */
async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(ApiError)
  return error as ApiError
}

describe('contract handlers: validation', () => {
  it('answers app info', async () => {
    expect(await client.api.getAppInfo()).toMatchObject({ name: 'Transfer Workbench', contractVersion: 1, host: 'test' })
  })

  it('turns bad input into typed errors naming the field, and keeps serving', async () => {
    const api = client.api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    const missing = await rejection(api['startRun']!({}))
    expect(missing.code).toBe('invalid-request')
    expect(missing.issues.map((i) => i.path)).toContain('dataset')

    const extra = await rejection(api['startRun']!({ dataset: 'demo', outDir: '/etc' }))
    expect(extra.code).toBe('invalid-request')
    expect(extra.message).toMatch(/outDir/)

    const typo = await rejection(client.api.startRun({ dataset: 'demo', config: { lerningRate: 1 } as never }))
    expect(typo).toMatchObject({ code: 'invalid-request' })
    expect(typo.message).toMatch(/config\.lerningRate: unknown key/)

    const kind = await rejection(client.api.startRun({ dataset: 'imagenet:/data' }))
    expect(kind).toMatchObject({ code: 'invalid-request' })
    expect(kind.issues[0]?.path).toBe('dataset')

    const range = await rejection(client.api.startRun({ dataset: 'demo', config: { batchSize: -1 } }))
    expect(range.issues[0]?.path).toBe('config.batchSize')

    expect((await rejection(api['cancelRun']!({ runId: '../../etc' }))).code).toBe('invalid-request')
    expect((await rejection(api['getRunMetrics']!('not an object'))).code).toBe('invalid-request')
    expect((await rejection(api['listRuns']!('unexpected'))).code).toBe('invalid-request')
    expect((await rejection(client.api.getRunMetrics({ runId: 'nope' }))).code).toBe('not-found')
    expect((await rejection(api['constructor']!())).code).toBe('unknown-request')
    expect((await rejection(api['deleteEverything']!())).code).toBe('unknown-request')
    // None of that started a trainer.
    expect(server.engineStatus().trainer).toBe('stopped')
  })
})

describe('contract handlers: a trainer that cannot start', () => {
  it('fails the request with a typed error and leaves nothing busy', async () => {
    const { server: broken } = await createTestServer({
      launchTrainer: () => {
        throw new Error('cannot fork the trainer')
      }
    })
    const brokenClient = connectInMemory(broken)
    await expect(brokenClient.api.startRun(tinyRun())).rejects.toMatchObject({ code: 'internal', message: 'cannot fork the trainer' })
    expect(await brokenClient.api.listRuns()).toEqual([])
    expect(broken.engineStatus()).toMatchObject({ activeRunId: null, trainer: 'stopped' })
    brokenClient.close()
    await broken.shutdown()
  })
})

describe('contract handlers: engine status', () => {
  it('starts lazily and reports the backend through engine:status', async () => {
    const status = await client.api.getEngineStatus()
    expect(status.trainer).toBe('stopped')
    expect(['probing', 'known']).toContain(status.backendState)
    expect(status.memory.systemTotalBytes).toBeGreaterThan(0)
    expect(status.memory.hostRssBytes).toBeGreaterThan(0)
    const known = await recorder.waitFor((e) => e.type === 'engine:status' && e.status.backendState === 'known')
    expect(known.type === 'engine:status' && known.status.backend).toMatchObject({ backend: 'wasm', device: 'cpu' })
  })
})

describe('contract handlers: datasets', () => {
  it('lists the built-in demo', async () => {
    const datasets = await client.api.listDatasets()
    expect(datasets.find((d) => d.id === 'demo')).toMatchObject({ kind: 'demo' })
  })

  it('inspects classes with PNG thumbnails', async () => {
    const details = await client.api.inspectDataset({ id: 'demo', samplesPerClass: 2 })
    expect(details.classes).toHaveLength(10)
    expect(details.width).toBe(32)
    for (const c of details.classes) {
      expect(c.samples).toHaveLength(2)
      for (const s of c.samples) {
        expect(s.dataUrl).toMatch(/^data:image\/png;base64,/)
        const png = Buffer.from(s.dataUrl.split(',')[1] as string, 'base64')
        expect(png.subarray(1, 4).toString()).toBe('PNG')
        expect(png.readUInt32BE(16)).toBe(32) // IHDR width
      }
    }
  })

  it('reports a missing folder as a typed error', async () => {
    const error = await rejection(client.api.inspectDataset({ id: 'folder:/definitely/not/here' }))
    expect(['not-found', 'dataset']).toContain(error.code)
    expect(error.message).toMatch(/definitely\/not\/here/)
    expect((await rejection(client.api.inspectDataset({ id: 'demo', samplesPerClass: 99 }))).code).toBe('invalid-request')
  })
})

describe('contract handlers: runs', () => {
  it('starts a run that returns its id at once and streams progress, epochs and status to the end', async () => {
    const { runId } = await client.api.startRun({ ...tinyRun(), name: 'first' })
    expect(runId).toMatch(/^[A-Za-z0-9_-]+$/)
    const [running] = await client.api.listRuns()
    expect(running).toMatchObject({ runId, name: 'first', status: 'running' })
    await expect(client.api.startRun(tinyRun())).rejects.toMatchObject({ code: 'busy' })

    const end = await recorder.waitFor(runEnded(runId))
    const mine = recorder.events.filter((e) => 'runId' in e && e.runId === runId)
    const progress = mine.filter((e): e is Extract<WorkbenchEvent, { type: 'run:progress' }> => e.type === 'run:progress')
    const epochs = mine.filter((e) => e.type === 'run:epoch')
    expect(epochs).toHaveLength(2)
    // The last batch of every epoch is never dropped by the throttle.
    for (const epoch of [1, 2]) expect(progress.some((p) => p.epoch === epoch && p.batch === p.batchesPerEpoch)).toBe(true)
    expect(progress[0]).toMatchObject({ epochs: 2, batchesPerEpoch: 5 })
    expect(progress.every((p) => Number.isFinite(p.loss) && p.acc >= 0 && p.acc <= 1 && p.imagesPerSecond > 0)).toBe(true)
    const phases = recorder.events.filter((e) => e.type === 'run:status' && e.run.runId === runId).map((e) => (e.type === 'run:status' ? e.run.phase : null))
    expect(phases).toEqual(expect.arrayContaining(['starting', 'loading-data', 'training']))

    if (end.type !== 'run:status') throw new Error('unreachable')
    expect(end.run).toMatchObject({ status: 'done', backend: 'wasm', device: 'cpu', epochsDone: 2, error: null, resumable: false })
    expect(end.run.outcome).toMatchObject({ status: 'done', epochs: 2 })
    expect(existsSync(join(end.run.outDir, 'best', 'model.json'))).toBe(true)

    const metrics = await client.api.getRunMetrics({ runId })
    expect(metrics.filter((m) => m.type === 'epoch').map((m) => m.epoch)).toEqual([1, 2])
    expect((await client.api.listRuns())[0]).toMatchObject({ runId, status: 'done' })
    await expect(client.api.resumeRun({ runId })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/already done/) })
  })

  it('cancels a run cooperatively', async () => {
    const { runId } = await client.api.startRun(tinyRun({ epochs: 500 }))
    await recorder.waitFor((e) => e.type === 'run:progress' && e.runId === runId)
    await client.api.cancelRun({ runId })
    const end = await recorder.waitFor(runEnded(runId))
    expect(end.type === 'run:status' && end.run.status).toBe('cancelled')
    expect(server.engineStatus()).toMatchObject({ trainer: 'idle', activeRunId: null })
  })

  it('marks a run cut off by a trainer crash as interrupted and resumable, restarts the trainer, and trains again', async () => {
    const { runId } = await client.api.startRun(tinyRun({ epochs: 500 }))
    await recorder.waitFor((e) => e.type === 'run:epoch' && e.runId === runId)
    const pid = server.engineStatus().trainerPid
    expect(pid).toBeGreaterThan(0)
    process.kill(pid as number, 'SIGKILL')

    const end = await recorder.waitFor(runEnded(runId))
    if (end.type !== 'run:status') throw new Error('unreachable')
    expect(end.run).toMatchObject({ status: 'interrupted', resumable: true })
    expect(end.run.error).toMatchObject({ code: 'trainer-crashed' })
    expect(end.run.error?.message).toMatch(/SIGKILL/)

    const status = server.engineStatus()
    expect(status).toMatchObject({ restarts: 1, activeRunId: null, trainer: 'idle' })
    expect(status.lastCrash).toMatchObject({ runId })
    expect(status.trainerPid).not.toBe(pid)

    // run.json says so too, so a later session (or the CLI) sees it as resumable.
    const stored = JSON.parse(await readFile(join(end.run.outDir, 'run.json'), 'utf8'))
    expect(stored.status).toBe('interrupted')

    // Resume continues from the last completed epoch, in the restarted trainer.
    const epochsBefore = end.run.epochsDone
    await client.api.resumeRun({ runId })
    const next = await recorder.waitFor((e) => e.type === 'run:epoch' && e.runId === runId && e.metrics.epoch > epochsBefore)
    expect(next.type === 'run:epoch' && next.metrics.epoch).toBe(epochsBefore + 1)
    await client.api.cancelRun({ runId })
    const stopped = await recorder.waitFor((e) => e.type === 'run:status' && e.run.runId === runId && e.run.status === 'cancelled')
    expect(stopped.type === 'run:status' && stopped.run.resumable).toBe(true)
    const epochLines = (await client.api.getRunMetrics({ runId })).filter((m) => m.type === 'epoch').map((m) => m.epoch)
    expect(epochLines).toEqual(Array.from({ length: epochLines.length }, (_, i) => i + 1))

    const again = await client.api.startRun(tinyRun({ epochs: 1 }))
    const done = await recorder.waitFor(runEnded(again.runId))
    expect(done.type === 'run:status' && done.run.status).toBe('done')
  })
})
