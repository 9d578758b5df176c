import { describe, expect, it } from 'vitest'
import { resolveTrainConfig } from '../../../src/shared/train-config'
import { learningRateAt } from '../../../src/engine/train/schedule'

describe('learning-rate schedules', () => {
  it('multistep: ×0.2 after epochs 60, 120 and 160, as PyTorch MultiStepLR', () => {
    const c = resolveTrainConfig()
    expect(learningRateAt(c, 1)).toBeCloseTo(0.1)
    expect(learningRateAt(c, 60)).toBeCloseTo(0.1)
    expect(learningRateAt(c, 61)).toBeCloseTo(0.02)
    expect(learningRateAt(c, 121)).toBeCloseTo(0.004)
    expect(learningRateAt(c, 200)).toBeCloseTo(0.0008)
  })

  it('cosine: from lr to minLr over the run', () => {
    const c = resolveTrainConfig({ schedule: 'cosine', epochs: 10, minLr: 0.001 })
    expect(learningRateAt(c, 1, 0)).toBeCloseTo(0.1)
    expect(learningRateAt(c, 6, 0)).toBeCloseTo((0.1 + 0.001) / 2)
    expect(learningRateAt(c, 10, 1)).toBeCloseTo(0.001)
  })

  it('warm-up ramps linearly from lr/10 within the first epochs, then hands over', () => {
    const c = resolveTrainConfig({ schedule: 'constant', warmupEpochs: 2 })
    expect(learningRateAt(c, 1, 0)).toBeCloseTo(0.01)
    expect(learningRateAt(c, 2, 0)).toBeCloseTo(0.055)
    expect(learningRateAt(c, 3, 0)).toBeCloseTo(0.1)
  })
})
