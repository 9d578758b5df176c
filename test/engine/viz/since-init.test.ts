import * as tf from '@tensorflow/tfjs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunRecord } from '../../../src/shared/project'
import type { FilterGrid } from '../../../src/shared/viz'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { DEMO_CLASS_NAMES } from '../../../src/engine/data/demo-dataset'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import type { ArchId } from '../../../src/shared/vgg'
import { writeRun } from '../../../src/engine/project/project-store'
import { deriveSeed } from '../../../src/engine/random'
import { buildInitialModel } from '../../../src/engine/models/initial-model'
import { planExperiment } from '../../../src/engine/train/plan-sweep'
import { runPlanned } from '../../../src/engine/train/run-planned'
import { InitialKernelCache } from '../../../src/engine/viz/initial-kernels'
import { RunModelCache, type RunModel } from '../../../src/engine/viz/run-model'
import { VizService } from '../../../src/engine/viz/viz-service'
import { readKernel, type WeightArray } from '../../../src/engine/viz/weights'
import { trainTransferProject, type TrainedProject } from './trained-project'

const ARTIFACTS = join(process.cwd(), 'test-results', 'viz')
const N = 2
const CONFIG = { arch: 'vgg11_bn', width: 1 / 8, epochs: 1, batchSize: 32, trainPerClass: 40, lr: 0.05, schedule: 'constant', seed: 11 } as const

let project: TrainedProject
let models: RunModelCache
let service: VizService
let base: RunModel
let target: RunModel

beforeAll(async () => {
  await selectBackend('wasm')
  project = await trainTransferProject({ dataset: 'demo', groups: { A: DEMO_CLASS_NAMES.slice(0, 5), B: DEMO_CLASS_NAMES.slice(5, 10) }, n: N, config: CONFIG })
  models = new RunModelCache(2)
  base = await models.open(project.dir, project.base.id)
  target = await models.open(project.dir, project.transfer.id)
  service = new VizService()
  await mkdir(ARTIFACTS, { recursive: true })
}, 600_000)

afterAll(() => {
  service?.dispose()
  models?.dispose()
})

/** The since-init filters of a run's layer, through the service as the views and the CLI ask for them. */
async function sinceInit(runId: string, layer: string, mode?: FilterGrid['mode']): Promise<FilterGrid> {
  return (await service.filters({ projectDir: project.dir, runId, layer, mode, relativeTo: 'init' })).data
}

/** Kernel weight [y, x, c, f] of a [kh, kw, in, out] kernel. */
function at(kernel: WeightArray, y: number, x: number, c: number, f: number): number {
  const [, kw, inputs, outputs] = kernel.shape
  return kernel.values[((y * kw + x) * inputs + c) * outputs + f]
}

describe('filters: change since initialization', () => {
  it('base run: the grid is the trained kernel minus the initial one, rebuilt from the run seed', async () => {
    const init = buildVgg({ arch: CONFIG.arch as ArchId, width: CONFIG.width, numClasses: base.meta.classNames.length, seed: deriveSeed(CONFIG.seed, `init:${project.base.id}`) })
    const initial = await readKernel(init, 'block1_conv1')
    init.dispose()
    const trained = await readKernel(base.model, 'block1_conv1')
    const grid = await sinceInit(project.base.id, 'conv 1-1')
    const weights = (await service.filters({ projectDir: project.dir, runId: project.base.id, layer: 'conv 1-1' })).data

    // Same format as the weights' grid: one RGB 3×3 tile per filter.
    expect([grid.layer, grid.mode, grid.filters.length, grid.kernelSize, grid.inputChannels]).toEqual(['block1_conv1', 'rgb', 8, [3, 3], 3])
    expect(grid.filters.map((f) => [f.tiles.length, f.tiles[0].channels, f.tiles[0].values.length])).toEqual(weights.filters.map(() => [1, 3, 27]))

    // By hand, filter 3 at (y=1, x=2, red): trained − initial, drawn through the change's own range.
    const change = at(trained, 1, 2, 0, 3) - at(initial, 1, 2, 0, 3)
    expect(change).not.toBe(0)
    const f3 = grid.filters[3]
    expect(f3.tiles[0].values[(1 * 3 + 2) * 3]).toBeCloseTo((change - f3.min) / (f3.max - f3.min), 5)

    // Every filter: range and norm are those of trained − initial.
    for (const filter of grid.filters) {
      const diffs: number[] = []
      for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) diffs.push(at(trained, y, x, c, filter.index) - at(initial, y, x, c, filter.index))
      expect(filter.min).toBeCloseTo(Math.min(...diffs), 6)
      expect(filter.max).toBeCloseTo(Math.max(...diffs), 6)
      expect(filter.norm).toBeCloseTo(Math.hypot(...diffs), 6)
      expect(filter.max).toBeGreaterThan(filter.min)
    }
    // The change is a different picture from the weights, and much smaller than them after one epoch.
    expect(grid.filters[0].tiles[0].values).not.toEqual(weights.filters[0].tiles[0].values)
    const norm = (g: FilterGrid): number => Math.hypot(...g.filters.map((f) => f.norm))
    expect(norm(grid)).toBeLessThan(norm(weights))

    // Deeper convs too, in their own modes.
    const deep = await sinceInit(project.base.id, 'block2_conv1', 'channels')
    expect([deep.mode, deep.filters.length, deep.filters[0].tiles.length]).toEqual(['channels', 16, 8])
  })

  it('AnB: layers it froze did not move (change exactly 0), re-initialized ones did', async () => {
    const layers = ['block1_conv1', 'block2_conv1', 'block3_conv1', 'block3_conv2', 'block5_conv2']
    for (const [i, layer] of layers.entries()) {
      const grid = await sinceInit(project.transfer.id, layer, 'mean')
      if (i < N) {
        for (const f of grid.filters) {
          expect([f.min, f.max, f.norm]).toEqual([0, 0, 0])
          expect(f.tiles[0].values.every((v) => v === 0.5)).toBe(true)
        }
        // Not trivially zero: these are the base's trained weights, not the target's own initialization.
        expect((await readKernel(target.model, layer)).values).toEqual((await readKernel(base.model, layer)).values)
      } else {
        expect(grid.filters.every((f) => f.norm > 0)).toBe(true)
      }
    }
    const rgb = await service.filters({ projectDir: project.dir, runId: project.transfer.id, layer: 'conv 3-1', relativeTo: 'init' })
    expect((await sharp(await rgb.renderPng()).metadata()).format).toBe('png')
    await writeFile(join(ARTIFACTS, 'since-init-anb-conv3-1.png'), await rgb.renderPng())
    await writeFile(join(ARTIFACTS, 'since-init-base-conv1-1.png'), await (await service.filters({ projectDir: project.dir, runId: project.base.id, layer: 'conv 1-1', relativeTo: 'init' })).renderPng())
  })

  it('training starts from exactly buildInitialModel: a run trained with lr 0 shows no change anywhere', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-since-init-'))
    const [run] = planExperiment({
      id: 'still',
      name: 'lr 0',
      dataset: 'demo',
      groups: { A: DEMO_CLASS_NAMES.slice(0, 3) },
      bases: ['A'],
      transfers: [],
      config: { ...CONFIG, lr: 0, trainPerClass: 16 }
    }) as [RunRecord]
    await writeRun(dir, run)
    expect((await runPlanned(dir, run.id, () => {})).status).toBe('done')
    for (const layer of ['block1_conv1', 'block4_conv2', 'block5_conv2']) {
      const grid = (await service.filters({ projectDir: dir, runId: run.id, layer, mode: 'mean', relativeTo: 'init' })).data
      expect(grid.filters.every((f) => f.norm === 0)).toBe(true)
    }
  }, 300_000)

  it('builds a transfer without its source only with an error; rejects an unknown reference', async () => {
    const record = { ...target.record, sourceRunId: null }
    await expect(buildInitialModel(record, { numClasses: 5 })).rejects.toThrow(/needs its source run \(none\)/)
    await expect(service.filters({ projectDir: project.dir, runId: project.base.id, layer: 'conv 1-1', relativeTo: 'best' as never })).rejects.toThrow(/relativeTo: 'best' is not 'init'/)
  })

  it('keeps the initial kernels per run as plain arrays: no tensors left behind', async () => {
    const cache = new InitialKernelCache(1)
    const before = tf.memory().numTensors
    const first = await cache.kernel(project.dir, target, 'block3_conv1')
    expect(await cache.kernel(project.dir, target, 'block3_conv1')).toBe(first)
    await cache.kernel(project.dir, base, 'block1_conv1') // evicts the target's
    expect(await cache.kernel(project.dir, target, 'block3_conv1')).not.toBe(first)
    expect(tf.memory().numTensors).toBe(before)
    await expect(cache.kernel(project.dir, target, 'fc1')).rejects.toThrow(/no initial kernel for 'fc1'/)
  })
})
