import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import type { ArchId } from '../../../src/engine/models/vgg-config'
import { writeRun } from '../../../src/engine/project/project-store'
import { deriveSeed } from '../../../src/engine/random'
import { planExperiment } from '../../../src/engine/train/plan-sweep'
import { runPlanned } from '../../../src/engine/train/run-planned'
import { activationMaps, renderActivationsPng } from '../../../src/engine/viz/activations'
import { filterGrid, filterGridFromKernel, renderFilterPng } from '../../../src/engine/viz/filters'
import { imageBytes } from '../../../src/engine/viz/image-input'
import { renderConfusionPng } from '../../../src/engine/viz/prediction-figures'
import { confusionMatrix, predictImage, runPredictions } from '../../../src/engine/viz/predictions'
import { resolveVizLayer, RunModelCache, type RunModel } from '../../../src/engine/viz/run-model'
import { loadRunSplit, type RunSplit } from '../../../src/engine/viz/run-split'
import { runTopActivations, topImagesForChannel } from '../../../src/engine/viz/top-images'
import { renderTopImagesPng, topImagePixels } from '../../../src/engine/viz/top-images-figure'
import { readKernel, type WeightArray } from '../../../src/engine/viz/weights'

const CIFAR = resolve('../shared/datasets/cifar10-jpg')
const HAVE_CIFAR = existsSync(CIFAR)
if (!HAVE_CIFAR) console.warn(`skipping the CIFAR-10 viz tests: ${CIFAR} not found (see ../shared/datasets/README.md)`)

const ARTIFACTS = join(process.cwd(), 'test-results', 'viz')
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']

let projectDir: string
let models: RunModelCache
let run: RunModel
let val: RunSplit

/**
 * How much a first-layer kernel looks like an image rather than noise: the mean correlation between
 * horizontally and vertically neighbouring weights (same filter, same colour channel). He-normal
 * noise gives ≈ 0; edges, blobs and colour gradients give clearly positive values.
 */
function neighbourCorrelation(kernel: WeightArray): number {
  const [kh, kw, inputs, outputs] = kernel.shape
  let total = 0
  for (let f = 0; f < outputs; f++) {
    const at = (y: number, x: number, c: number): number => kernel.values[((y * kw + x) * inputs + c) * outputs + f]
    const a: number[] = []
    const b: number[] = []
    for (let c = 0; c < inputs; c++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          if (x + 1 < kw) {
            a.push(at(y, x, c))
            b.push(at(y, x + 1, c))
          }
          if (y + 1 < kh) {
            a.push(at(y, x, c))
            b.push(at(y + 1, x, c))
          }
        }
      }
    }
    const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length
    const [ma, mb] = [mean(a), mean(b)]
    let cov = 0
    let va = 0
    let vb = 0
    a.forEach((v, i) => {
      cov += (v - ma) * (b[i] - mb)
      va += (v - ma) ** 2
      vb += (b[i] - mb) ** 2
    })
    total += cov / Math.sqrt(va * vb)
  }
  return total / outputs
}

describe.skipIf(!HAVE_CIFAR)('a VGG11-BN trained briefly on real CIFAR-10 images', () => {
  beforeAll(async () => {
    await selectBackend('wasm')
    projectDir = await mkdtemp(join(tmpdir(), 'wb-viz-cifar-'))
    // ~12,000 images seen (4 epochs × 300 per class): a couple of minutes on wasm, enough for the
    // first layer to leave its random initialization.
    const [planned] = planExperiment({
      id: 'cifar',
      name: 'cifar viz',
      dataset: `folder:${CIFAR}`,
      groups: { all: CLASSES },
      bases: ['all'],
      transfers: [],
      config: { arch: 'vgg11_bn', width: 1 / 8, epochs: 4, batchSize: 32, trainPerClass: 300, lr: 0.1, schedule: 'constant', augment: { crop: false, flip: false, rotate: false, rotateDegrees: 0 }, seed: 3 }
    })
    await writeRun(projectDir, planned)
    const outcome = await runPlanned(projectDir, planned.id, () => {})
    expect(outcome.status).toBe('done')
    models = new RunModelCache(1)
    run = await models.open(projectDir, planned.id)
    val = await loadRunSplit(run.record, run.meta, 'val')
    await mkdir(ARTIFACTS, { recursive: true })
  }, 900_000)

  afterAll(() => models?.dispose())

  it('first-layer filters show structure (neighbouring weights correlate), unlike their random initialization', async () => {
    const trained = readKernel(run.model, 'block1_conv1')
    const init = buildVgg({ arch: run.meta.arch as ArchId, width: run.meta.width, numClasses: 10, seed: deriveSeed(run.record.config.seed, `init:${run.runId}`) })
    const initial = readKernel(init, 'block1_conv1')
    init.dispose()
    const before = neighbourCorrelation(initial)
    const after = neighbourCorrelation(trained)
    console.log(`conv 1-1 neighbour correlation: init ${before.toFixed(3)}, trained ${after.toFixed(3)}`)
    expect(Math.abs(before)).toBeLessThan(0.15)
    // Measured 0.09–0.28 after training (dropout is unseeded, and with 8 filters the statistic is noisy)
    // against −0.11 at init: assert a clear rise, with margin below the smallest rise seen (0.2).
    expect(after - before).toBeGreaterThan(0.1)
    const grid = filterGrid(run.model, resolveVizLayer(run.depth, 'conv 1-1').name)
    expect(grid.filters).toHaveLength(8)
    await writeFile(join(ARTIFACTS, 'cifar-filters-conv1-1.png'), await renderFilterPng(grid, 'CIFAR-10, 4 short epochs: conv 1-1', { scale: 24 }))
    await writeFile(join(ARTIFACTS, 'cifar-filters-conv1-1-init.png'), await renderFilterPng(filterGridFromKernel('block1_conv1', initial), 'same filters at initialization', { scale: 24 }))
  })

  it('activation maps and top images on real photos', async () => {
    const pixels = imageBytes(val.set, val.indices[0], val.size)
    const maps = activationMaps(run.model, run.meta, pixels, resolveVizLayer(run.depth, 'conv 3-1').name, { maps: 'all' })
    expect(maps.maps).toHaveLength(maps.channelCount)
    await writeFile(join(ARTIFACTS, 'cifar-activations-conv3-1.png'), await renderActivationsPng(maps, pixels, val.size, 'CIFAR-10: conv 3-1, all maps'))
    const { top } = await runTopActivations(projectDir, run, 'block2_conv1', { k: 8 })
    expect(top.index.scanned).toBe(val.indices.length)
    const result = await topImagesForChannel(run.model, run.meta, top, 0, 8)
    expect(result.images.map((i) => i.score)).toEqual([...result.images.map((i) => i.score)].sort((a, b) => b - a))
    for (const image of result.images) expect(image.map.max).toBeCloseTo(image.score, 4)
    await writeFile(join(ARTIFACTS, 'cifar-top-images-conv2-1-ch0.png'), await renderTopImagesPng(result, topImagePixels(top, 0, 8), val.size, 'CIFAR-10: conv 2-1 channel 0'))
  })

  it('predictions sum to 1 and the confusion matrix reproduces the run’s best validation accuracy', async () => {
    const p = predictImage(run.model, run.meta, imageBytes(val.set, val.indices[1], val.size), { top: 10 })
    expect(p.top.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 5)
    const { predictions } = await runPredictions(projectDir, run, 'val', { loadSplit: async () => val })
    const matrix = confusionMatrix(predictions)
    expect(matrix.total).toBe(val.indices.length)
    expect(matrix.accuracy).toBeCloseTo(run.record.bestValAcc as number, 6)
    await writeFile(join(ARTIFACTS, 'cifar-confusion.png'), await renderConfusionPng(matrix, 'CIFAR-10: validation'))
  })
})
