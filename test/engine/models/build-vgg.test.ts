import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildVgg, countParameters } from '../../../src/engine/models/build-vgg'
import { type ArchId, listWeightLayers, parseArch, resolveLayerName } from '../../../src/shared/vgg'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

// Expected counts worked out by hand from the cfg table (3×3 convs with bias; BN adds γ, β plus
// two running statistics; classifier 512→4096→4096→C), written as conv + BN + classifier.
// VGG11-BN, C=100: the seed's 28.5 M.
const cases: { arch: ArchId; width: number; classes: number; weightLayers: number; convs: number; trainable: number }[] = [
  { arch: 'vgg11_bn', width: 1, classes: 100, weightLayers: 11, convs: 8, trainable: 9_220_480 + 5_504 + 19_292_260 },
  { arch: 'vgg11', width: 1, classes: 10, weightLayers: 11, convs: 8, trainable: 28_144_010 },
  { arch: 'vgg13_bn', width: 1, classes: 10, weightLayers: 13, convs: 10, trainable: 9_404_992 + 5_888 + 18_923_530 },
  { arch: 'vgg16', width: 1, classes: 10, weightLayers: 16, convs: 13, trainable: 33_638_218 },
  { arch: 'vgg19_bn', width: 1, classes: 10, weightLayers: 19, convs: 16, trainable: 20_024_384 + 11_008 + 18_923_530 },
  { arch: 'vgg11_bn', width: 0.125, classes: 5, weightLayers: 11, convs: 8, trainable: 0 }
]

describe('VGG builder', () => {
  for (const c of cases) {
    it(`${c.arch} width ${c.width}, C=${c.classes}: layer and parameter counts`, () => {
      const model = buildVgg({ arch: c.arch, width: c.width, numClasses: c.classes, seed: 1 })
      const { depth } = parseArch(c.arch)
      const listed = listWeightLayers(depth)
      expect(listed).toHaveLength(c.weightLayers)
      expect(listed.filter((l) => l.kind === 'conv')).toHaveLength(c.convs)
      // The listing names exactly the model's weight layers, in order.
      const withKernels = model.layers.filter((l) => l.getClassName() === 'Conv2D' || l.getClassName() === 'Dense')
      expect(withKernels.map((l) => l.name)).toEqual(listed.map((l) => l.name))
      const counts = countParameters(model)
      if (c.trainable > 0) expect(counts.trainable).toBe(c.trainable)
      else expect(counts.trainable).toBeGreaterThan(0)
      expect(model.outputs[0].shape).toEqual([null, c.classes])
      model.dispose()
    })
  }

  it('rounds VGG11-BN width 1, C=100 to the seed appendix figure of 28.5 M', () => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 1, numClasses: 100, seed: 1 })
    expect((countParameters(model).trainable / 1e6).toFixed(1)).toBe('28.5')
    model.dispose()
  })

  it('scales widths: ⅛ width has 8, 16, 32, 32, 64, 64, 64, 64 filters and 512-unit fc layers', () => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 0.125, numClasses: 5, seed: 1 })
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D')
    expect(convs.map((l) => (l.getConfig() as { filters: number }).filters)).toEqual([8, 16, 32, 32, 64, 64, 64, 64])
    expect((model.getLayer('fc1').getConfig() as { units: number }).units).toBe(512)
    model.dispose()
  })

  it('builds the same weights from the same seed and different ones from another', () => {
    const weightsOf = (seed: number): Float32Array => {
      const m = buildVgg({ arch: 'vgg11_bn', width: 0.125, numClasses: 3, seed })
      const data = m.getLayer('block2_conv1').getWeights()[0].dataSync() as Float32Array
      m.dispose()
      return data
    }
    expect(weightsOf(7)).toEqual(weightsOf(7))
    expect(weightsOf(7)).not.toEqual(weightsOf(8))
  })

  it('maps seed 003 labels ("conv 2-1") and rejects names the depth lacks', () => {
    expect(resolveLayerName('vgg16', 'conv 2-1')).toBe('block2_conv1')
    expect(resolveLayerName('vgg16', '5-3')).toBe('block5_conv3')
    expect(resolveLayerName('vgg11', 'conv 1-2')).toBeUndefined()
    expect(resolveLayerName('vgg11', 'fc2')).toBe('fc2')
  })

  it('rejects bad options with a message naming the value', () => {
    expect(() => buildVgg({ arch: 'vgg12' as ArchId, width: 1, numClasses: 10, seed: 1 })).toThrow(/vgg12/)
    expect(() => buildVgg({ arch: 'vgg11', width: 1, numClasses: 10, inputSize: 40, seed: 1 })).toThrow(/40/)
    expect(() => buildVgg({ arch: 'vgg11', width: 0, numClasses: 10, seed: 1 })).toThrow(/width/)
  })
})

afterAll(() => {
  expect(tf.memory().numTensors).toBeLessThan(50)
})
