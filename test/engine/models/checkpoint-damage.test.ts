import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, open, readFile, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir } from '../../helpers/dataset-fixtures'
import { CheckpointError, loadCheckpoint, loadOptimizerInto, saveCheckpoint, type CheckpointMeta } from '../../../src/engine/models/checkpoint'
import { readMetrics } from '../../../src/engine/project/metrics-log'
import { readRun, runDir, writeRun } from '../../../src/engine/project/project-store'
import { writeProjectPlan } from '../../../src/engine/train/sweep'
import { runPlanned } from '../../../src/engine/train/run-planned'
import type { RunRecord } from '../../../src/shared/project'
import type { TrainEvent } from '../../../src/shared/train-request'
import { makeSweepProject } from '../slurm/helpers/sweep-project'

/**
 * A base run of 3 epochs stopped after epoch 2 (cancelled, resumable), with a copy of its last/ as it
 * was after epoch 1 (to play the epoch before, `last.old/`). Each test damages a copy of it and resumes.
 */
let template: { project: string; runId: string; lastAfterEpoch1: string }
/** Every temp folder the tests made (the template's project, each copy), removed at the end. */
const made: string[] = []
afterAll(async () => {
  await Promise.all([template?.project, ...made].map((d) => removeDir(d)))
})

beforeAll(async () => {
  process.env.WORKBENCH_BACKEND = 'wasm'
  const project = await makeSweepProject({ epochs: 3, width: 0.0625, trainPerClass: 16, batchSize: 16 }, [1])
  const base = (await writeProjectPlan(project)).find((r) => r.kind === 'base') as RunRecord
  const dir = runDir(project, base.id)
  const lastAfterEpoch1 = join(project, 'last-after-epoch-1')
  const abort = new AbortController()
  let copying: Promise<void> = Promise.resolve()
  await runPlanned(project, base.id, (event) => {
    if (event.type !== 'epoch') return
    // last/ is written before the epoch event.
    if (event.metrics.epoch === 1) copying = cp(join(dir, 'last'), lastAfterEpoch1, { recursive: true })
    if (event.metrics.epoch === 2) abort.abort()
  }, abort.signal)
  await copying
  const run = await readRun(project, base.id)
  if (run.epochs !== 2) throw new Error(`fixture: expected a run stopped after epoch 2, got ${run.status} after ${run.epochs}`)
  template = { project, runId: base.id, lastAfterEpoch1 }
})

/** A fresh copy of the stopped run: its folder, and a resume that records what it said. */
async function copyOfRun(): Promise<{ project: string; dir: string; runId: string; resume: () => Promise<{ run: RunRecord; said: string[] }> }> {
  const project = await mkdtemp(join(tmpdir(), 'wb-damage-'))
  made.push(project)
  await cp(template.project, project, { recursive: true })
  const runId = template.runId
  const dir = runDir(project, runId)
  return {
    project,
    dir,
    runId,
    async resume() {
      const said: string[] = []
      await runPlanned(project, runId, (e: TrainEvent) => e.type === 'status' && said.push(e.message))
      return { run: await readRun(project, runId), said }
    }
  }
}

async function epochsIn(dir: string): Promise<number[]> {
  return (await readMetrics(join(dir, 'metrics.jsonl'))).filter((m) => m.type === 'epoch').map((m) => m.epoch)
}

describe('checkpoint files are checked on load, naming the file', () => {
  it('a truncated weights.bin: expected and actual bytes', async () => {
    const { dir } = await copyOfRun()
    const file = join(dir, 'last', 'weights.bin')
    const size = (await stat(file)).size
    await truncate(file, 10)
    const error = await loadCheckpoint(join(dir, 'last')).catch((e: Error) => e)
    expect(error).toBeInstanceOf(CheckpointError)
    expect((error as Error).message).toBe(`${file}: the weights model.json lists: expected ${size} bytes, found 10 (truncated)`)
  })

  it('an empty optimizer.bin and a truncated model.json', async () => {
    const { dir } = await copyOfRun()
    const last = join(dir, 'last')
    const optimizerBytes = (await stat(join(last, 'optimizer.bin'))).size
    await writeFile(join(last, 'optimizer.bin'), '')
    const optimizer = tf.train.momentum(0.1, 0.9)
    await expect(loadOptimizerInto(last, optimizer)).rejects.toThrow(`${join(last, 'optimizer.bin')}: the optimizer state optimizer.json lists: expected ${optimizerBytes} bytes, found 0 (truncated)`)
    const text = await readFile(join(last, 'model.json'), 'utf8')
    await writeFile(join(last, 'model.json'), text.slice(0, 100))
    await expect(loadCheckpoint(last)).rejects.toThrow(new RegExp(`^${join(last, 'model.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON \\(100 bytes`))
  })

  it('weights paths in model.json stay inside the checkpoint folder', async () => {
    const { dir } = await copyOfRun()
    const file = join(dir, 'last', 'model.json')
    const manifest = JSON.parse(await readFile(file, 'utf8'))
    manifest.weightsManifest[0].paths = ['../../../../etc/passwd']
    await writeFile(file, JSON.stringify(manifest))
    await expect(loadCheckpoint(join(dir, 'last'))).rejects.toThrow(/model\.json: weights path "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" leads outside/)
  })
})

describe('checkpoint files are synced before the folder is renamed into place', () => {
  it('every file of a new checkpoint, and the folder, is fsynced while it is still the temp folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'wb-sync-'))
    made.push(root)
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] })
    const optimizer = tf.train.momentum(0.1, 0.9)
    optimizer.minimize(() => tf.sum(model.predict(tf.ones([1, 3])) as tf.Tensor) as tf.Scalar)
    const meta: CheckpointMeta = { arch: 'x', width: 1, inputSize: 3, classNames: ['a', 'b'], normalization: { mean: [0], std: [1] }, epoch: 1, valAcc: null }
    const target = join(root, 'last')
    const probe = await open(join(root, 'probe'), 'w')
    const proto = Object.getPrototypeOf(probe) as { sync: (...args: unknown[]) => Promise<void> }
    await probe.close()
    const original = proto.sync
    const syncsBeforeRename: boolean[] = []
    proto.sync = function (this: unknown, ...args: unknown[]) {
      syncsBeforeRename.push(!existsSync(target))
      return original.apply(this, args)
    }
    try {
      await saveCheckpoint(target, model, meta, optimizer)
    } finally {
      proto.sync = original
    }
    // model.json, weights.bin, workbench.json, optimizer.json, optimizer.bin and the folder itself.
    expect(syncsBeforeRename.filter(Boolean).length).toBeGreaterThanOrEqual(6)
    expect((await loadCheckpoint(target)).meta.epoch).toBe(1)
  })
})

describe('a damaged last/ never leaves a run that no resume can finish', () => {
  it('truncated weights.bin: resumes from best/, says so on the log and in run.json history, every epoch once', async () => {
    const { dir, resume } = await copyOfRun()
    const bestEpoch = JSON.parse(await readFile(join(dir, 'best', 'workbench.json'), 'utf8')).epoch as number
    await truncate(join(dir, 'last', 'weights.bin'), 10)
    const { run, said } = await resume()
    expect(run.status).toBe('done')
    expect(run.epochs).toBe(3)
    expect(await epochsIn(dir)).toEqual([1, 2, 3])
    const fallback = said.find((m) => m.includes('unusable'))
    expect(fallback).toContain(`${join(dir, 'last', 'weights.bin')}: the weights model.json lists: expected`)
    expect(fallback).toContain(`resuming after epoch ${bestEpoch} from best/ with fresh optimizer state`)
    expect(run.history).toHaveLength(1)
    expect(run.history?.[0]).toMatchObject({ event: 'checkpoint-fallback', message: fallback })
    expect(existsSync(join(dir, 'last.damaged', 'weights.bin'))).toBe(true)
    expect(JSON.parse(await readFile(join(dir, 'last', 'workbench.json'), 'utf8')).epoch).toBe(3)
  })

  it('empty optimizer.bin: resumes after epoch 2 from last/’s weights with fresh optimizer state', async () => {
    const { dir, resume } = await copyOfRun()
    await writeFile(join(dir, 'last', 'optimizer.bin'), '')
    const { run, said } = await resume()
    expect(run.status).toBe('done')
    expect(await epochsIn(dir)).toEqual([1, 2, 3])
    expect(said).toContain('resuming after epoch 2')
    expect(run.history?.[0]?.message).toMatch(/optimizer\.bin: the optimizer state optimizer\.json lists: expected \d+ bytes, found 0 \(truncated\); resuming after epoch 2 from last\/'s weights with fresh optimizer state/)
  })

  it('truncated model.json: resumes from best/', async () => {
    const { dir, resume } = await copyOfRun()
    const file = join(dir, 'last', 'model.json')
    await writeFile(file, (await readFile(file, 'utf8')).slice(0, 200))
    const { run } = await resume()
    expect(run.status).toBe('done')
    expect(await epochsIn(dir)).toEqual([1, 2, 3])
    expect(run.history?.[0]?.message).toContain(`${file}: not valid JSON`)
    expect(run.history?.[0]?.message).toMatch(/from best\//)
  })

  it('last/ and best/ both damaged, the epoch before kept as last.old/: resumes from it after epoch 1, best/ rebuilt', async () => {
    const { dir, resume } = await copyOfRun()
    await cp(template.lastAfterEpoch1, join(dir, 'last.old'), { recursive: true })
    await truncate(join(dir, 'last', 'weights.bin'), 10)
    await truncate(join(dir, 'best', 'weights.bin'), 10)
    const { run } = await resume()
    expect(run.status).toBe('done')
    expect(await epochsIn(dir)).toEqual([1, 2, 3])
    expect(run.history?.[0]?.message).toMatch(/resuming after epoch 1 from last\.old\/ \(the epoch before\);/)
    // best/ is whole again and agrees with run.json.
    const bestMeta = JSON.parse(await readFile(join(dir, 'best', 'workbench.json'), 'utf8'))
    expect(bestMeta.epoch).toBe(run.bestEpoch)
    await expect(loadCheckpoint(join(dir, 'best')).then(({ model }) => void model.dispose())).resolves.toBeUndefined()
  })

  it('nothing usable: says so and restarts from scratch; the next resume is a normal one', async () => {
    const { project, dir, resume } = await copyOfRun()
    await writeFile(join(dir, 'last', 'model.json'), '')
    await writeFile(join(dir, 'best', 'workbench.json'), '{"epo')
    const { run, said } = await resume()
    expect(run.status).toBe('done')
    expect(await epochsIn(dir)).toEqual([1, 2, 3])
    const restart = said.find((m) => m.startsWith('no usable checkpoint'))
    expect(restart, said.join('\n')).toMatch(/; restarting the run from scratch/)
    expect(restart).toContain(`${join(dir, 'last', 'model.json')}: not valid JSON`)
    expect(restart).toContain(`${join(dir, 'best', 'workbench.json')}: not valid JSON`)
    expect(said.some((m) => m.startsWith('resuming after'))).toBe(false)
    expect(run.history?.map((h) => h.event)).toEqual(['restarted'])
    // A later resume of a run stopped again finds a whole last/.
    await writeRun(project, { ...run, status: 'interrupted' })
    const again = await resume()
    expect(again.run.history).toHaveLength(1)
    expect(await epochsIn(dir)).toEqual([1, 2, 3])
  })
})
