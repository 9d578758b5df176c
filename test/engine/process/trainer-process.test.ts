import { mkdtemp, readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forkTrainerProcess, TrainerCrashedError, TrainerHost } from '../../../src/engine/process/trainer-host'
import type { TrainEvent, TrainRequest } from '../../../src/shared/train-request'

// A real child process running the real engine (wasm backend) on the built-in demo dataset.
let host: TrainerHost
let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wb-trainer-'))
  host = new TrainerHost(forkTrainerProcess({ ...process.env, WORKBENCH_BACKEND: 'wasm' }), 5_000)
})

afterAll(async () => {
  await host.shutdown()
})

const request = (name: string, config: TrainRequest['config'] = {}): TrainRequest => ({
  dataset: 'demo',
  classes: undefined,
  config: { width: 1 / 16, epochs: 2, batchSize: 32, lr: 0.05, trainPerClass: 16, logEveryBatches: 2, seed: 3, ...config },
  outDir: join(root, name)
})

describe('trainer process (child_process.fork)', () => {
  it('trains in the child, streams events, and writes run.json, metrics.jsonl, best/ and last/', async () => {
    const events: TrainEvent[] = []
    const job = host.train(request('ok'), (e) => events.push(e))
    expect(job.jobId).toMatch(/^[0-9a-f-]{36}$/)
    const outcome = await job.outcome
    expect(outcome).toMatchObject({ status: 'done', epochs: 2, backend: 'wasm', device: 'cpu' })
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2)
    expect(events.some((e) => e.type === 'batch')).toBe(true)
    const dir = join(root, 'ok')
    const run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8'))
    expect(run).toMatchObject({ status: 'done', backend: 'wasm', dataset: 'demo', seed: 3 })
    expect(run.config.width).toBe(1 / 16)
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.filter((l) => l.type === 'epoch').map((l) => l.epoch)).toEqual([1, 2])
    expect(lines.filter((l) => l.type === 'batch').every((l) => l.epoch >= 1 && typeof l.loss === 'number')).toBe(true)
    for (const sub of ['best', 'last']) expect(existsSync(join(dir, sub, 'model.json'))).toBe(true)
    expect(existsSync(join(dir, 'last', 'optimizer.bin'))).toBe(true)
  })

  it('refuses a second job while one runs, and cancels cooperatively', async () => {
    const first = host.train(request('long', { epochs: 200 }), () => undefined)
    const second = host.train(request('second'), () => undefined)
    await expect(second.outcome).rejects.toThrow(/busy/)
    host.cancel(first.jobId)
    const outcome = await first.outcome
    expect(outcome.status).toBe('cancelled')
    const run = JSON.parse(await readFile(join(root, 'long', 'run.json'), 'utf8'))
    expect(run.status).toBe('cancelled')
  })

  it('turns a bad request into a clear error, not a crash', async () => {
    const job = host.train({ ...request('bad'), config: { lerningRate: 1 } as never }, () => undefined)
    await expect(job.outcome).rejects.toThrow(/config\.lerningRate: unknown key/)
    const job2 = host.train({ ...request('bad2'), dataset: 'imagenet:/nowhere' }, () => undefined)
    await expect(job2.outcome).rejects.toThrow(/imagenet/)
  })

  it('reports a killed trainer as a crash with the signal', async () => {
    const child = forkTrainerProcess({ ...process.env, WORKBENCH_BACKEND: 'wasm' })
    const crashing = new TrainerHost(child, 1_000)
    const job = crashing.train(request('crash', { epochs: 200 }), (e) => {
      if (e.type === 'batch') child.kill('SIGKILL')
    })
    await expect(job.outcome).rejects.toBeInstanceOf(TrainerCrashedError)
    await expect(job.outcome).rejects.toThrow(/SIGKILL/)
  })
})
