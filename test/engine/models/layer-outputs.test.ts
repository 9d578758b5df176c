import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { forward } from '../../../src/engine/models/forward'
import { layerOutputs } from '../../../src/engine/models/layer-outputs'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('layer outputs', () => {
  it('returns intermediate activations with the right shapes, and the last layer equals the forward pass', () => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: 3, seed: 1 })
    const x = tf.randomNormal([2, 32, 32, 3])
    const before = tf.memory().numTensors
    const [conv, pool, logits] = layerOutputs(model, x, ['block1_conv1', 'block3_pool', 'predictions'])
    expect(conv.shape).toEqual([2, 32, 32, 4])
    expect(pool.shape).toEqual([2, 4, 4, 16])
    const reference = tf.tidy(() => forward(model, x, false))
    expect(Array.from(logits.dataSync())).toEqual(Array.from(reference.dataSync()))
    tf.dispose([conv, pool, logits, reference])
    // Only what was returned survived the call.
    expect(tf.memory().numTensors).toBe(before)
    expect(() => layerOutputs(model, x, ['block9_conv1'])).toThrow(/block9_conv1/)
    model.dispose()
  })
})
