import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { measureNormalization } from '../../../src/engine/data/normalize'
import { stratifiedSplit } from '../../../src/engine/data/split'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { listWeightLayers } from '../../../src/shared/vgg'
import { transferLayers } from '../../../src/engine/models/transfer'
import type { TrainData } from '../../../src/engine/data/train-data'
import { train } from '../../../src/engine/train/trainer'
import { resolveTrainConfig } from '../../../src/shared/train-config'
import { makeSyntheticSet } from '../../helpers/synthetic-images'

beforeAll(async () => {
  await selectBackend('wasm')
})

const NAMES = listWeightLayers('vgg11').map((l) => l.name)
const config = resolveTrainConfig({ arch: 'vgg11_bn', width: 1 / 16, epochs: 1, batchSize: 16, lr: 0.05, schedule: 'constant', seed: 1 })

function data(): TrainData {
  const set = makeSyntheticSet(24, 3, 32, 7)
  const { train: t, val } = stratifiedSplit(set.labels, 3, { valFraction: 0.25, seed: 1 })
  return { classNames: ['a', 'b', 'c'], size: 32, normalization: measureNormalization(set, t, 1024), train: { set, indices: t }, val: { set, indices: val } }
}

/** Every weight (kernel, bias, BN γ/β/mean/variance) of a layer and its BN, as flat arrays. */
function snapshot(model: ReturnType<typeof buildVgg>, name: string): Float32Array[] {
  const layers = model.layers.filter((l) => l.name === name || l.name === `${name}_bn`)
  return layers.flatMap((l) => l.getWeights().map((w) => w.dataSync() as Float32Array).map((a) => a.slice()))
}

describe('transfer surgery', () => {
  it('AnB at n=3: frozen copied layers stay bit-identical to the source after training; the rest move', async () => {
    const source = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 4, seed: 11 })
    const target = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 3, seed: 22 })
    const fresh = new Map(NAMES.map((n) => [n, snapshot(target, n)]))
    transferLayers(source, target, NAMES, 3, true)
    await train({ model: target, config, data: data() })
    for (const [i, name] of NAMES.entries()) {
      const after = snapshot(target, name)
      if (i < 3) {
        // Frozen: equal to the source, bit for bit, BN running statistics included.
        expect(after).toEqual(snapshot(source, name))
        expect(target.getLayer(name).trainable).toBe(false)
      } else {
        // Re-initialized and trained: differs from the fresh init (and from the source).
        expect(after[0]).not.toEqual(fresh.get(name)![0])
      }
    }
    source.dispose()
    target.dispose()
  })

  it('AnB+ at n=2: copied layers start from the source and are fine-tuned', async () => {
    const source = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 4, seed: 11 })
    const target = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 3, seed: 22 })
    transferLayers(source, target, NAMES, 2, false)
    expect(snapshot(target, 'block2_conv1')).toEqual(snapshot(source, 'block2_conv1'))
    expect(snapshot(target, 'block3_conv1')[0]).not.toEqual(snapshot(source, 'block3_conv1')[0])
    await train({ model: target, config, data: data() })
    expect(snapshot(target, 'block1_conv1')[0]).not.toEqual(snapshot(source, 'block1_conv1')[0])
    expect(target.getLayer('block1_conv1').trainable).toBe(true)
    source.dispose()
    target.dispose()
  })

  it('rejects a depth outside 0 … 10 and mismatched widths, naming them', () => {
    const a = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 3, seed: 1 })
    const b = buildVgg({ arch: 'vgg11_bn', width: 1 / 8, numClasses: 3, seed: 1 })
    expect(() => transferLayers(a, a, NAMES, 11, true)).toThrow(/n=11 is outside 0 … 10/)
    expect(() => transferLayers(a, b, NAMES, 1, true)).toThrow(/block1_conv1.*width or input size differ/)
    a.dispose()
    b.dispose()
  })
})
