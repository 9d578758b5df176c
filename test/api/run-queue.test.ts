import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import type { WorkbenchEvent } from '../../src/shared/contract'
import type { Experiment } from '../../src/shared/project'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import { compareRunOrder } from '../../src/shared/run-order'
import { connectInMemory, createTestServer, recordEvents } from './workbench-harness'

// The queue through the contract with the real trainer process: the sweep trains the runs in the
// project's one run order, and a run cancelled during the sweep can be resumed while the sweep goes
// on — it is queued, and trains right after the run training at that moment.
let server: WorkbenchServer
let client: WorkbenchClient
let recorder: ReturnType<typeof recordEvents>
let dir: string

beforeAll(async () => {
  ;({ server, dir } = await createTestServer())
  client = connectInMemory(server)
  recorder = recordEvents(client)
})

afterAll(async () => {
  client.close()
  await server.shutdown()
})

// Variants and depths listed out of order, so the planner's order is not the run order by accident.
const experiment: Experiment = {
  id: 'exp-queue',
  name: 'queue',
  dataset: 'demo',
  groups: { A: ['stripes-h', 'stripes-v', 'checker'], B: ['disc', 'ring', 'cross'] },
  bases: [],
  transfers: [{ from: 'A', to: 'B', variants: ['BnB', 'AnB'], n: [2, 1] }],
  config: { width: 1 / 16, epochs: 2, batchSize: 16, trainPerClass: 16, lr: 0.05, logEveryBatches: 1 }
}

type StatusEvent = Extract<WorkbenchEvent, { type: 'run:status' }>
const isStatus = (e: WorkbenchEvent): e is StatusEvent => e.type === 'run:status'

describe('the run queue', () => {
  it('trains in the shown order, and a cancelled run resumed during the sweep joins the queue and trains next', async () => {
    await client.api.createProject({ dir: join(dir, 'queue'), name: 'Queue' })
    const saved = await client.api.saveExperiment({ experiment })
    const order = [...saved.runs].sort(compareRunOrder).map((r) => r.id)
    expect(order).toHaveLength(6)

    await client.api.startSweep()
    // Cancel the first transfer as soon as it trains a batch.
    const firstTransfer = order[2] as string
    await recorder.waitFor((e) => e.type === 'run:progress' && e.runId === firstTransfer, 240_000)
    await client.api.cancelRun({ runId: firstTransfer })
    await recorder.waitFor((e) => isStatus(e) && e.run.runId === firstTransfer && e.run.status === 'cancelled', 60_000)

    // The sweep goes on with the next run; resumed meanwhile, the cancelled run is queued behind it.
    const next = order[3] as string
    await recorder.waitFor((e) => isStatus(e) && e.run.runId === next && e.run.status === 'running', 60_000)
    // A run never started this session (no job of its own yet) is queued too, and its status reaches the clients.
    const notStarted = order[5] as string
    await client.api.resumeRun({ runId: notStarted })
    await recorder.waitFor((e) => isStatus(e) && e.run.runId === notStarted && e.run.status === 'queued' && e.run.queuePosition === 1, 10_000)
    await client.api.cancelRun({ runId: notStarted })
    await recorder.waitFor((e) => isStatus(e) && e.run.runId === notStarted && e.run.status === 'cancelled', 10_000)
    const ref = await client.api.resumeRun({ runId: firstTransfer })
    expect(ref.runId).toBe(firstTransfer)
    const queued = (await client.api.listRuns()).find((r) => r.runId === firstTransfer)
    expect(queued).toMatchObject({ status: 'queued', queuePosition: 1 })
    // Resuming it twice keeps one place in the queue.
    await client.api.resumeRun({ runId: firstTransfer })
    expect((await client.api.listRuns()).filter((r) => r.status === 'queued')).toHaveLength(1)
    // Cancelling a queued run takes it out of the queue; resumed again, it is back.
    await client.api.cancelRun({ runId: firstTransfer })
    const unqueued = (await client.api.listRuns()).find((r) => r.runId === firstTransfer)
    expect(unqueued?.status).toBe('cancelled')
    expect(unqueued?.queuePosition).toBeUndefined()
    await client.api.resumeRun({ runId: firstTransfer })
    expect((await client.api.listRuns()).find((r) => r.runId === firstTransfer)).toMatchObject({ status: 'queued', queuePosition: 1 })

    const end = await recorder.waitFor((e) => e.type === 'sweep:status' && e.status.state !== 'running', 300_000)
    expect(end.type === 'sweep:status' && end.status.state).toBe('done')

    // Every start, in order: the run order, with the resumed run right after the run it waited for.
    const starts = recorder.events.filter((e): e is StatusEvent => isStatus(e) && e.run.status === 'running' && e.run.phase === 'starting').map((e) => e.run.runId)
    expect(starts).toEqual([order[0], order[1], order[2], order[3], order[2], order[4], order[5]])
    const project = await client.api.getProject()
    expect(project?.runs.every((r) => r.status === 'done')).toBe(true)
  }, 420_000)
})
