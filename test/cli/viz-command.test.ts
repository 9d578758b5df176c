import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli, type CliResult } from '../helpers/run-cli'
import { selectBackend } from '../../src/engine/backend/select-backend'
import { DEMO_CLASS_NAMES } from '../../src/engine/data/demo-dataset'
import { imageBytes } from '../../src/engine/viz/image-input'
import { openRunModel } from '../../src/engine/viz/run-model'
import { loadRunSplit } from '../../src/engine/viz/run-split'
import type { ActivationMaps, FilterGrid, LayerComparison, ModelComparison, Prediction, TopImages } from '../../src/shared/viz'
import { trainTransferProject, type TrainedProject } from '../engine/viz/trained-project'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ARTIFACTS = join(ROOT, 'test-results', 'viz')

/** Runs `cli viz …` in a child process (as `npm run cli -- viz …` does). */
const viz = (args: string[]): Promise<CliResult> => runCli(['viz', ...args], { env: { WORKBENCH_BACKEND: 'wasm' } })

let project: TrainedProject
let image: string

beforeAll(async () => {
  await selectBackend('wasm')
  project = await trainTransferProject({
    dataset: 'demo',
    groups: { A: DEMO_CLASS_NAMES.slice(0, 5), B: DEMO_CLASS_NAMES.slice(5, 10) },
    n: 2,
    config: { arch: 'vgg11_bn', width: 1 / 8, epochs: 1, batchSize: 32, trainPerClass: 40, lr: 0.05, schedule: 'constant', seed: 9 }
  })
  // A validation image of the target, saved as a file to feed --image.
  const run = await openRunModel(project.dir, project.transfer.id)
  const val = await loadRunSplit(run.record, run.meta, 'val')
  run.model.dispose()
  image = join(project.dir, 'input.png')
  await sharp(Buffer.from(imageBytes(val.set, val.indices[0], 32)), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(image)
  await mkdir(ARTIFACTS, { recursive: true })
}, 600_000)

describe('cli viz', () => {
  it('viz filters --layer "conv 1-1" writes one 48 px RGB tile per filter', async () => {
    const out = join(ARTIFACTS, 'cli-filters.png')
    const result = await viz(['filters', '--project', project.dir, '--run', project.base.id, '--layer', 'conv 1-1', '--out', out])
    expect(result.stderr).toContain(`wrote ${out}`)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/block1_conv1 \(conv 1-1\) · 8 filters 3×3, rgb/)
    const meta = await sharp(out).metadata()
    // Title line (22 px) over 3 rows of 48 px tiles with 3 px gaps.
    expect(meta.height).toBe(22 + 3 * 48 + 4 * 3)

    const json = await viz(['filters', '--project', project.dir, '--run', project.base.id, '--layer', 'block2_conv1', '--mode', 'channels', '--input-channels', '4', '--json'])
    const grid = JSON.parse(json.stdout) as FilterGrid
    expect(grid.filters).toHaveLength(16)
    expect(grid.filters.every((f) => f.tiles.length === 4)).toBe(true)
  })

  it('viz filters --since-init draws what training changed: zero (mid-grey) where AnB froze the layer', async () => {
    const out = join(ARTIFACTS, 'cli-filters-since-init.png')
    const base = await viz(['filters', '--project', project.dir, '--run', project.base.id, '--layer', 'conv 1-1', '--since-init', '--out', out])
    expect(base.stderr).toContain(`wrote ${out}`)
    expect(base.code).toBe(0)
    expect(base.stdout).toMatch(/block1_conv1 \(conv 1-1\) · 8 filters 3×3, rgb · change since initialization/)
    // Same layout as the weights' picture.
    const meta = await sharp(out).metadata()
    expect([meta.format, meta.height]).toEqual(['png', 22 + 3 * 48 + 4 * 3])
    const changed = JSON.parse((await viz(['filters', '--project', project.dir, '--run', project.base.id, '--layer', 'conv 1-1', '--since-init', '--json'])).stdout) as FilterGrid
    const weights = JSON.parse((await viz(['filters', '--project', project.dir, '--run', project.base.id, '--layer', 'conv 1-1', '--json'])).stdout) as FilterGrid
    expect(changed.filters.every((f) => f.norm > 0)).toBe(true)
    const total = (g: FilterGrid): number => Math.hypot(...g.filters.map((f) => f.norm))
    expect(total(changed)).toBeLessThan(total(weights))
    const frozen = JSON.parse((await viz(['filters', '--project', project.dir, '--run', project.transfer.id, '--layer', 'conv 2-1', '--since-init', '--json'])).stdout) as FilterGrid
    expect(frozen.filters.every((f) => f.norm === 0 && f.min === 0 && f.max === 0)).toBe(true)
  })

  it('viz activations --image FILE --maps 6 draws the input and six maps in one row', async () => {
    const out = join(ARTIFACTS, 'cli-activations.png')
    const args = ['activations', '--project', project.dir, '--run', project.transfer.id, '--layer', 'block1_conv1', '--image', image, '--maps', '6']
    const result = await viz([...args, '--out', out])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/6 of 8 maps/)
    expect((await sharp(out).metadata()).width).toBe(7 * 128 + 8 * 4)
    const data = JSON.parse((await viz([...args, '--json'])).stdout) as ActivationMaps
    expect(data.maps.map((m) => m.channel)).toEqual([0, 1, 2, 3, 4, 5])
    expect(data.outputLayer).toBe('block1_conv1_relu')
  })

  it('viz compare: the layers AnB froze are identical, the later ones changed', async () => {
    const summary = JSON.parse((await viz(['compare', '--project', project.dir, '--run', project.transfer.id, '--json'])).stdout) as ModelComparison
    expect(summary.baseRunId).toBe(project.base.id)
    expect(summary.layers.map((l) => l.identical)).toEqual(summary.layers.map((l) => l.index <= 2))
    const out = join(ARTIFACTS, 'cli-compare.png')
    const layer = await viz(['compare', '--project', project.dir, '--run', project.transfer.id, '--layer', 'conv 3-1', '--out', out, '--json'])
    const data = JSON.parse(layer.stdout) as LayerComparison
    expect(data.identical).toBe(false)
    expect(data.filters.every((f) => !f.identical)).toBe(true)
    expect((await sharp(out).metadata()).format).toBe('png')
  })

  it('viz top-images and viz predict give data that checks out', async () => {
    const top = JSON.parse((await viz(['top-images', '--project', project.dir, '--run', project.transfer.id, '--layer', 'conv 2-1', '--channel', '1', '--k', '4', '--out', join(ARTIFACTS, 'cli-top-images.png'), '--json'])).stdout) as TopImages
    expect(top.images).toHaveLength(4)
    const scores = top.images.map((i) => i.score)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
    const prediction = JSON.parse((await viz(['predict', '--project', project.dir, '--run', project.transfer.id, '--image', image, '--top', '5', '--json'])).stdout) as Prediction
    expect(prediction.top.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 5)
    expect(prediction.top.map((t) => t.className).sort()).toEqual([...DEMO_CLASS_NAMES.slice(5, 10)].sort())
  })

  it('explains mistakes: a missing flag is a usage error (exit 2), an unknown layer lists the valid ones (exit 1)', async () => {
    const missing = await viz(['filters', '--project', project.dir, '--run', project.base.id])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/--layer is required[\s\S]*usage: cli viz/)
    const unknown = await viz(['filters', '--project', project.dir, '--run', project.base.id, '--layer', 'conv 9-9', '--out', join(project.dir, 'x.png')])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/'conv 9-9' is not a conv layer of vgg11; use one of block1_conv1 \(conv 1-1\)/)
  })
})
