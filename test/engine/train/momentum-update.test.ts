/**
 * The workers' one-pass SGD step gives what tfjs's MomentumOptimizer gives (with the trainer's L2
 * decay folded in) on the summed gradients, for 1, 2 and 3 workers, with and without Nesterov.
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { momentumUpdate } from '../../../src/engine/train/parallel/momentum-update'
import { applyUpdate } from '../../../src/engine/train/train-step'

beforeAll(async () => {
  await selectBackend('cpu')
})

function random(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32 - 0.5
  }
}

describe('momentumUpdate', () => {
  for (const workers of [1, 2, 3]) {
    for (const useNesterov of [false, true]) {
      it(`matches tfjs momentum with ${workers} worker(s)${useNesterov ? ', Nesterov' : ''} over 3 steps`, () => {
        const n = 37
        const offset = 5
        const next = random(workers * 10 + Number(useNesterov))
        const start = Float32Array.from({ length: n }, next)
        const settings = { lr: 0.07, momentum: 0.9, useNesterov, weightDecay: 5e-3 }
        const weights = Float32Array.from(start)
        const velocity = new Float32Array(n)
        const variable = tf.variable(tf.tensor1d(start), true, `w-${workers}-${useNesterov}`)
        const optimizer = tf.train.momentum(settings.lr, settings.momentum, useNesterov)
        for (let step = 0; step < 3; step++) {
          const regions = Array.from({ length: workers }, () => Float32Array.from({ length: offset + n + 3 }, next))
          momentumUpdate(regions, offset, weights, weights, velocity, settings)
          const summed = new Float32Array(n)
          for (const r of regions) for (let j = 0; j < n; j++) summed[j] = (summed[j] as number) + (r[offset + j] as number)
          tf.tidy(() => applyUpdate(optimizer, [variable], { [variable.name]: tf.tensor1d(summed) }, settings.weightDecay))
        }
        const expected = variable.dataSync() as Float32Array
        for (let j = 0; j < n; j++) expect(weights[j]).toBeCloseTo(expected[j] as number, 5)
        // The weights moved: the comparison is not between two untouched copies.
        expect(Math.max(...weights.map((w, j) => Math.abs(w - (start[j] as number))))).toBeGreaterThan(0.01)
        variable.dispose()
        optimizer.dispose()
      })
    }
  }
})
