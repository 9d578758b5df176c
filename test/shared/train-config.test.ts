import { describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_TRAIN_CONFIG, resolveTrainConfig } from '../../src/shared/train-config'

describe('training configuration', () => {
  it('defaults to the seed report recipe', () => {
    const c = resolveTrainConfig()
    expect(c).toMatchObject({ arch: 'vgg11_bn', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, batchSize: 128, epochs: 200, milestones: [60, 120, 160], gamma: 0.2, valFraction: 0.2 })
  })

  it('applies valid overrides without touching the frozen defaults', () => {
    const c = resolveTrainConfig({ width: 0.125, epochs: 8, augment: { rotate: false }, milestones: [3, 6] })
    expect(c.width).toBe(0.125)
    expect(c.augment).toEqual({ crop: true, flip: true, rotate: false, rotateDegrees: 15 })
    c.milestones.push(9)
    expect(DEFAULT_TRAIN_CONFIG.milestones).toEqual([60, 120, 160])
    expect(Object.isFrozen(DEFAULT_TRAIN_CONFIG)).toBe(true)
  })

  it.each([
    [{ lerningRate: 0.1 }, /config\.lerningRate: unknown key/],
    [{ lr: 'fast' }, /config\.lr: expected a number, got "fast"/],
    [{ epochs: 2.5 }, /config\.epochs: expected a whole number/],
    [{ arch: 'resnet50' }, /config\.arch: expected one of vgg11/],
    [{ milestones: [10, 5] }, /config\.milestones: must increase/],
    [{ augment: { zoom: true } }, /config\.augment\.zoom: unknown key/],
    [{ inputSize: 48 }, /config\.inputSize: 48 must be a multiple of 32/],
    [{ valFraction: 1 }, /config\.valFraction: 1 is outside/]
  ])('rejects %j naming the key', (overrides, message) => {
    expect(() => resolveTrainConfig(overrides)).toThrow(ConfigError)
    expect(() => resolveTrainConfig(overrides)).toThrow(message)
  })
})
