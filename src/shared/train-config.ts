/**
 * The training configuration: typed defaults (the seed report's recipe), overrides validated key by
 * key (an unknown key is an error, not a silent no-op), and a frozen snapshot saved with every run.
 * Plain TypeScript: shared by engine, main and renderer.
 */

import { ARCH_IDS } from './vgg'

export type ScheduleKind = 'constant' | 'multistep' | 'cosine'

export interface AugmentConfig {
  /** Random crop after 4-pixel zero padding. */
  crop: boolean
  /** Random horizontal flip. */
  flip: boolean
  /** Random rotation within ±rotateDegrees. */
  rotate: boolean
  rotateDegrees: number
}

export interface TrainConfig {
  arch: string
  /** Width multiplier (1, 0.5, 0.25, 0.125 …). */
  width: number
  /** Input side length in pixels. */
  inputSize: number
  dropout: number
  epochs: number
  batchSize: number
  /** Base learning rate of SGD. */
  lr: number
  momentum: number
  weightDecay: number
  schedule: ScheduleKind
  /** Epochs (1-based boundaries) after which multistep multiplies the rate by gamma. */
  milestones: number[]
  gamma: number
  /** Cosine: the rate it decays to. */
  minLr: number
  /** Linear warm-up from lr/10 over this many epochs (0: none). */
  warmupEpochs: number
  augment: AugmentConfig
  /** Fraction of each class's training images held out for validation. */
  valFraction: number
  /** At most this many training images per class (null: all). */
  trainPerClass: number | null
  seed: number
  /** Report a batch metric every this many batches. */
  logEveryBatches: number
}

/** The seed report's recipe: SGD 0.1, momentum 0.9, wd 5e-4, batch 128, multistep 60/120/160 ×0.2, 200 epochs. */
export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  arch: 'vgg11_bn',
  width: 1,
  inputSize: 32,
  dropout: 0.5,
  epochs: 200,
  batchSize: 128,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  schedule: 'multistep',
  milestones: [60, 120, 160],
  gamma: 0.2,
  minLr: 0,
  warmupEpochs: 0,
  augment: Object.freeze({ crop: true, flip: true, rotate: true, rotateDegrees: 15 }),
  valFraction: 0.2,
  trainPerClass: null,
  seed: 0,
  logEveryBatches: 10
}) as Readonly<TrainConfig>

/** A bad configuration value: names the key and what was wrong. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    problem: string
  ) {
    super(`config.${key}: ${problem}`)
    this.name = 'ConfigError'
  }
}

type Check = (value: unknown, key: string) => void

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

function number(min: number, max = Infinity, integer = false): Check {
  return (v, key) => {
    if (!isNumber(v)) throw new ConfigError(key, `expected a number, got ${JSON.stringify(v)}`)
    if (integer && !Number.isInteger(v)) throw new ConfigError(key, `expected a whole number, got ${v}`)
    if (v < min || v > max) throw new ConfigError(key, `${v} is outside ${min} … ${max}`)
  }
}

function oneOf(options: readonly string[]): Check {
  return (v, key) => {
    if (typeof v !== 'string' || !options.includes(v)) {
      throw new ConfigError(key, `expected one of ${options.join(', ')}, got ${JSON.stringify(v)}`)
    }
  }
}

const boolean: Check = (v, key) => {
  if (typeof v !== 'boolean') throw new ConfigError(key, `expected true or false, got ${JSON.stringify(v)}`)
}

const CHECKS: Record<Exclude<keyof TrainConfig, 'augment'>, Check> = {
  arch: oneOf(ARCH_IDS),
  width: number(1 / 64, 4),
  inputSize: (v, key) => {
    number(32, 512, true)(v, key)
    if ((v as number) % 32 !== 0) throw new ConfigError(key, `${v} must be a multiple of 32`)
  },
  dropout: number(0, 0.95),
  epochs: number(1, 100_000, true),
  batchSize: number(1, 65_536, true),
  lr: number(0, 100),
  momentum: number(0, 0.999),
  weightDecay: number(0, 1),
  schedule: oneOf(['constant', 'multistep', 'cosine']),
  milestones: (v, key) => {
    if (!Array.isArray(v)) throw new ConfigError(key, `expected a list of epochs, got ${JSON.stringify(v)}`)
    v.forEach((m, i) => number(1, 100_000, true)(m, `${key}[${i}]`))
    if (v.some((m, i) => i > 0 && m <= v[i - 1])) throw new ConfigError(key, `must increase, got ${v.join(', ')}`)
  },
  gamma: number(0, 1),
  minLr: number(0, 100),
  warmupEpochs: number(0, 100_000, true),
  valFraction: number(0, 0.9),
  trainPerClass: (v, key) => {
    if (v !== null) number(1, 10_000_000, true)(v, key)
  },
  seed: number(0, 2 ** 32 - 1, true),
  logEveryBatches: number(1, 1_000_000, true)
}

const AUGMENT_CHECKS: Record<keyof AugmentConfig, Check> = {
  crop: boolean,
  flip: boolean,
  rotate: boolean,
  rotateDegrees: number(0, 180)
}

function applyChecked<T extends object>(base: T, overrides: Record<string, unknown>, checks: Record<string, Check>, prefix: string): T {
  const out = { ...base } as Record<string, unknown>
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue
    const check = checks[key]
    if (!check) throw new ConfigError(`${prefix}${key}`, `unknown key; known keys are ${Object.keys(checks).join(', ')}`)
    check(value, `${prefix}${key}`)
    out[key] = Array.isArray(value) ? [...value] : value
  }
  return out as T
}

/**
 * Resolves a full configuration from the defaults and overrides, validating every override.
 * @throws ConfigError naming the key for an unknown key or a bad value.
 */
export function resolveTrainConfig(overrides: Partial<TrainConfig> | Record<string, unknown> = {}, base: TrainConfig = DEFAULT_TRAIN_CONFIG): TrainConfig {
  const { augment, ...rest } = overrides as Record<string, unknown>
  const config = applyChecked(base, rest, { ...CHECKS, augment: () => undefined }, '')
  config.milestones = [...config.milestones]
  config.augment = { ...base.augment }
  if (augment !== undefined) {
    if (typeof augment !== 'object' || augment === null || Array.isArray(augment)) {
      throw new ConfigError('augment', `expected an object, got ${JSON.stringify(augment)}`)
    }
    config.augment = applyChecked(base.augment, augment as Record<string, unknown>, AUGMENT_CHECKS, 'augment.')
  }
  return config
}
