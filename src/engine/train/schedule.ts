import type { TrainConfig } from '../../shared/train-config'

/**
 * The learning rate for a (1-based) epoch and the fraction of it done, from the config's schedule.
 * Warm-up ramps linearly from lr/10 to lr over the first `warmupEpochs` epochs, per batch.
 */
export function learningRateAt(config: TrainConfig, epoch: number, fractionOfEpoch = 0): number {
  const progress = epoch - 1 + fractionOfEpoch // epochs completed, fractional
  if (config.warmupEpochs > 0 && progress < config.warmupEpochs) {
    const start = config.lr / 10
    return start + (config.lr - start) * (progress / config.warmupEpochs)
  }
  switch (config.schedule) {
    case 'constant':
      return config.lr
    case 'multistep': {
      // Milestone m: epochs after the m-th use the reduced rate (PyTorch MultiStepLR stepped per epoch).
      const passed = config.milestones.filter((m) => epoch > m).length
      return config.lr * config.gamma ** passed
    }
    case 'cosine': {
      const span = Math.max(1, config.epochs - config.warmupEpochs)
      const t = Math.min(1, Math.max(0, (progress - config.warmupEpochs) / span))
      return config.minLr + (config.lr - config.minLr) * 0.5 * (1 + Math.cos(Math.PI * t))
    }
  }
}
