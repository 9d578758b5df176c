import { appendFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import { readRun, writeRun } from '../../src/engine/project/project-store'
import { submitProject } from '../../src/engine/slurm/submit'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import type { MetricsRecord } from '../../src/shared/metrics'
import { FakeSlurm } from '../engine/slurm/helpers/fake-slurm'
import { makeSweepProject } from '../engine/slurm/helpers/sweep-project'
import { connectInMemory, createTestServer } from './workbench-harness'

// getClusterStatus over the contract: the open project's runs merged with Slurm, as the run monitor
// polls it. Here Slurm's commands are absent (a laptop with the project folder mounted): the server
// runs the real command lookup on a PATH without them, and the rows follow the run folders.
let server: WorkbenchServer
let client: WorkbenchClient

beforeAll(async () => {
  ;({ server } = await createTestServer())
  client = connectInMemory(server)
})

afterAll(async () => {
  client.close()
  await server.shutdown()
})

/** Runs `action` with PATH set to `path` (the server looks Slurm's commands up on it at call time). */
async function withPath<T>(path: string, action: () => Promise<T>): Promise<T> {
  const saved = process.env['PATH']
  process.env['PATH'] = path
  try {
    return await action()
  } finally {
    process.env['PATH'] = saved
  }
}

const batch = (epoch: number, batchNo: number): MetricsRecord => ({
  type: 'batch',
  epoch,
  batch: batchNo,
  batchesPerEpoch: 4,
  loss: 1.5,
  acc: 0.4,
  lr: 0.05,
  imagesPerSecond: 100,
  etaSeconds: 2,
  logged: true
})

describe('getClusterStatus', () => {
  it('needs an open project and takes no input', async () => {
    const noProject = await client.api.getClusterStatus().catch((e: unknown) => e)
    const otherRequest = await client.api.getTransferCurve({ from: 'A', to: 'B' }).catch((e: unknown) => e)
    expect(noProject).toMatchObject({ code: 'invalid-request', message: 'no project is open' })
    expect(noProject).toMatchObject({ code: (otherRequest as { code: string }).code, message: (otherRequest as { message: string }).message })
    const api = client.api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    await expect(api['getClusterStatus']!({ dir: '/etc' })).rejects.toMatchObject({ code: 'invalid-request' })
  })

  it('is null for a project never submitted to Slurm', async () => {
    await client.api.openProject({ dir: await makeSweepProject() })
    expect(await client.api.getClusterStatus()).toBeNull()
  })

  it('without squeue on PATH: rows from the run folders, progress following metrics.jsonl as it grows', async () => {
    const project = await makeSweepProject({ epochs: 2 })
    // The submission record as `sweep --executor slurm` leaves it (sbatch answered by the stand-in).
    const submission = (await submitProject(project, { slurm: {}, launcher: { cwd: '/', argv: ['node'] }, run: new FakeSlurm().run })).submission
    const [baseB, baseA] = submission?.arrays[0]?.runIds as [string, string]
    const baseJob = submission?.arrays[0]?.jobId as string
    await client.api.openProject({ dir: project })
    await writeRun(project, { ...(await readRun(project, baseB)), status: 'done', epochs: 2, bestValAcc: 0.5 })
    await writeRun(project, { ...(await readRun(project, baseA)), status: 'running', epochs: 0 })
    const metrics = join(project, 'runs', baseA, 'metrics.jsonl')
    await appendFile(metrics, `${JSON.stringify(batch(1, 2))}\n`)

    const empty = await mkdtemp(join(tmpdir(), 'wb-nopath-'))
    const first = await withPath(empty, () => client.api.getClusterStatus())
    expect(first).not.toBeNull()
    expect(first?.schedulerAvailable).toBe(false)
    expect(first?.note).toBe('squeue is not installed here: showing what the run folders say')
    expect(first?.counts).toMatchObject({ done: 1, running: 1, queued: 4, failed: 0 })
    expect(first?.rows).toHaveLength(6)
    expect(first?.rows.find((r) => r.id === baseB)).toMatchObject({ state: 'done', progress: 1, jobId: `${baseJob}_0`, bestValAcc: 0.5 })
    const running = first?.rows.find((r) => r.id === baseA)
    expect(running).toMatchObject({ state: 'running', detail: 'no scheduler information', jobId: `${baseJob}_1`, jobState: null, exitCode: null, totalEpochs: 2 })
    expect(running?.progress).toBeCloseTo(0.5 / 2)
    for (const row of first?.rows.filter((r) => r.kind === 'transfer') ?? []) {
      expect(row.state).toBe('queued')
      expect(row.detail).toMatch(/^submitted as \d+_\d; no scheduler information$/)
    }

    // The task on another node writes on: the next answer follows the file.
    const epoch: MetricsRecord = { type: 'epoch', epoch: 1, epochs: 2, trainLoss: 1.2, trainAcc: 0.5, valLoss: 1.3, valAcc: 0.45, lr: 0.05, imagesPerSecond: 100, seconds: 3, best: true }
    await appendFile(metrics, `${JSON.stringify(batch(1, 4))}\n${JSON.stringify(epoch)}\n${JSON.stringify(batch(2, 2))}\n`)
    const second = await withPath(empty, () => client.api.getClusterStatus())
    expect(second?.rows.find((r) => r.id === baseA)?.progress).toBeCloseTo(1.5 / 2)

    // Another project open: its own answer (null again for a project without submissions).
    await client.api.openProject({ dir: await makeSweepProject() })
    expect(await withPath(empty, () => client.api.getClusterStatus())).toBeNull()
  })
})
