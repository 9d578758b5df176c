/** Training-setting presets for the designer, as overrides of the seed recipe (DEFAULT_TRAIN_CONFIG). */
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, type TrainConfig } from '../../../shared/train-config'

export type ConfigOverrides = Partial<TrainConfig>

/** The seed report's recipe as it is: no overrides. */
export const SEED_RECIPE: ConfigOverrides = {}

/**
 * A first answer in minutes on a laptop CPU: width ⅛, a few epochs with the rate stepped down twice,
 * at most 200 training images per class.
 */
export const QUICK_LOOK: ConfigOverrides = {
  width: 0.125,
  epochs: 8,
  batchSize: 64,
  lr: 0.05,
  milestones: [4, 6],
  trainPerClass: 200
}

/** The full config the overrides give, or the error message when a value is out of range. */
export function resolveOverrides(overrides: ConfigOverrides): { config: TrainConfig; error: null } | { config: TrainConfig; error: string } {
  try {
    return { config: resolveTrainConfig(overrides), error: null }
  } catch (error) {
    return { config: resolveTrainConfig({}), error: (error as Error).message }
  }
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Only the keys that differ from the recipe: what an experiment stores (and what is readable in project.json). */
export function diffFromDefaults(config: TrainConfig): ConfigOverrides {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(config) as (keyof TrainConfig)[]) {
    if (key === 'augment') {
      const augment: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(config.augment)) if (!same(v, (DEFAULT_TRAIN_CONFIG.augment as unknown as Record<string, unknown>)[k])) augment[k] = v
      if (Object.keys(augment).length) out['augment'] = augment
    } else if (!same(config[key], DEFAULT_TRAIN_CONFIG[key])) {
      out[key] = config[key]
    }
  }
  return out as ConfigOverrides
}

/** Which preset a config matches, if any. */
export function matchPreset(config: TrainConfig): 'seed' | 'quick' | null {
  const diff = diffFromDefaults(config)
  if (same(diff, {})) return 'seed'
  if (same(diff, diffFromDefaults(resolveTrainConfig(QUICK_LOOK)))) return 'quick'
  return null
}
