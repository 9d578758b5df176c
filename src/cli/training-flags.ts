import type { TrainConfig } from '../shared/train-config'
import { listFlag, numberFlag } from './args'
import { BACKEND_FLAG_OPTIONS, BACKEND_FLAG_USAGE } from './backend-flag'

/** The training flags `train` and `sweep` share, for node:util parseArgs. */
export const TRAINING_FLAG_OPTIONS = {
  arch: { type: 'string' },
  width: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  milestones: { type: 'string' },
  gamma: { type: 'string' },
  'warmup-epochs': { type: 'string' },
  'val-fraction': { type: 'string' },
  'train-per-class': { type: 'string' },
  'no-augment': { type: 'boolean' },
  seed: { type: 'string' },
  ...BACKEND_FLAG_OPTIONS
} as const

export const TRAINING_FLAGS_USAGE = `[--arch vgg11_bn] [--width 0.125] [--epochs N] [--batch-size N] [--lr X] [--momentum X]
  [--weight-decay X] [--schedule constant|multistep|cosine] [--milestones 60,120,160] [--gamma X]
  [--warmup-epochs N] [--val-fraction X] [--train-per-class N] [--no-augment] [--seed N] ${BACKEND_FLAG_USAGE}`

type FlagValues = { [K in keyof typeof TRAINING_FLAG_OPTIONS]?: (typeof TRAINING_FLAG_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string }

/** The config overrides the flags ask for (only the flags given). */
export function configFromFlags(values: FlagValues): Partial<TrainConfig> {
  const overrides: Partial<TrainConfig> = {
    arch: values.arch,
    width: numberFlag('width', values.width),
    epochs: numberFlag('epochs', values.epochs),
    batchSize: numberFlag('batch-size', values['batch-size']),
    lr: numberFlag('lr', values.lr),
    momentum: numberFlag('momentum', values.momentum),
    weightDecay: numberFlag('weight-decay', values['weight-decay']),
    schedule: values.schedule as TrainConfig['schedule'] | undefined,
    milestones: listFlag(values.milestones)?.map((m) => numberFlag('milestones', m) as number),
    gamma: numberFlag('gamma', values.gamma),
    warmupEpochs: numberFlag('warmup-epochs', values['warmup-epochs']),
    valFraction: numberFlag('val-fraction', values['val-fraction']),
    trainPerClass: numberFlag('train-per-class', values['train-per-class']),
    seed: numberFlag('seed', values.seed),
    augment: values['no-augment'] ? { crop: false, flip: false, rotate: false, rotateDegrees: 15 } : undefined
  }
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<TrainConfig>
}
