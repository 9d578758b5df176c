import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildVgg } from '../../src/engine/models/build-vgg'
import type { ArchId } from '../../src/shared/vgg'
import { describeNetwork, formatShape } from '../../src/shared/vgg-shapes'

beforeAll(async () => {
  await tf.setBackend('cpu')
})
afterAll(() => {
  tf.disposeVariables()
})

/** A real tfjs model's output shape and parameter counts per Keras layer name, the conv's BN folded in. */
function factsOfModel(model: tf.LayersModel): Map<string, { shape: number[]; trainable: number; nonTrainable: number }> {
  const out = new Map<string, { shape: number[]; trainable: number; nonTrainable: number }>()
  const size = (shape: readonly (number | null)[]): number => shape.reduce<number>((a, b) => a * (b ?? 1), 1)
  for (const layer of model.layers) {
    const owner = layer.name.replace(/_(bn|relu|dropout)$/, '')
    const trainable = layer.trainableWeights.reduce((a, w) => a + size(w.shape), 0)
    const nonTrainable = layer.nonTrainableWeights.reduce((a, w) => a + size(w.shape), 0)
    const shape = (layer.outputShape as (number | null)[]).slice(1) as number[]
    const known = out.get(owner)
    if (known) out.set(owner, { shape: known.shape, trainable: known.trainable + trainable, nonTrainable: known.nonTrainable + nonTrainable })
    else out.set(owner, { shape, trainable, nonTrainable })
  }
  return out
}

const cases: { arch: ArchId; width: number; inputSize: number; classes: number }[] = [
  { arch: 'vgg11_bn', width: 0.25, inputSize: 32, classes: 5 },
  { arch: 'vgg11', width: 0.125, inputSize: 64, classes: 3 },
  { arch: 'vgg16_bn', width: 0.0625, inputSize: 32, classes: 10 }
]

describe('the network picture’s layer facts', () => {
  for (const c of cases) {
    it(`match a real tfjs ${c.arch} (width ${c.width}, ${c.inputSize}px, ${c.classes} classes) layer by layer`, () => {
      const model = buildVgg({ arch: c.arch, width: c.width, numClasses: c.classes, inputSize: c.inputSize, seed: 1 })
      try {
        const real = factsOfModel(model)
        const facts = describeNetwork(c.arch, { width: c.width, inputSize: c.inputSize, classes: c.classes })
        expect(facts.size).toBeGreaterThan(10)
        for (const [name, f] of facts) {
          const r = real.get(name)
          expect(r, name).toBeDefined()
          expect(f.outputShape, name).toEqual(r?.shape)
          expect(f.trainable, name).toBe(r?.trainable)
          expect(f.nonTrainable, name).toBe(r?.nonTrainable)
        }
        const sum = [...facts.values()].reduce((a, f) => a + f.trainable + f.nonTrainable, 0)
        expect(sum).toBe(model.countParams())
      } finally {
        model.dispose()
      }
    })
  }

  it('writes shapes as Netron does and knows no unknown architecture', () => {
    expect(formatShape([16, 16, 32])).toBe('16×16×32')
    expect(describeNetwork('resnet50', { classes: 2 }).size).toBe(0)
  })
})
