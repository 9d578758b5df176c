import { parseArgs } from 'node:util'
import { join } from 'node:path'
import type { TrainConfig } from '../../shared/train-config'
import { resolveTrainConfig } from '../../shared/train-config'
import type { TrainRequest } from '../../shared/train-request'
import { forkTrainerProcess, TrainerHost } from '../../engine/process/trainer-host'
import { listFlag, numberFlag, UsageError } from '../args'
import { createTrainProgress } from '../progress-bar'

export const TRAIN_USAGE = `usage: cli train --dataset <demo|cifar10:DIR|cifar100:DIR|folder:DIR> [--classes a,b,c]
  [--arch vgg11_bn] [--width 0.125] [--epochs N] [--batch-size N] [--lr X] [--momentum X]
  [--weight-decay X] [--schedule constant|multistep|cosine] [--milestones 60,120,160] [--gamma X]
  [--warmup-epochs N] [--val-fraction X] [--train-per-class N] [--no-augment] [--seed N]
  [--out DIR] [--json]`

/** Builds the training request from the command line, validating every value. */
export function parseTrainArgs(argv: string[], now = new Date()): { request: TrainRequest; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      dataset: { type: 'string' },
      classes: { type: 'string' },
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
      out: { type: 'string' },
      json: { type: 'boolean' }
    }
  })
  if (!values.dataset) throw new UsageError('--dataset is required')
  const milestones = listFlag(values.milestones)?.map((m) => numberFlag('milestones', m) as number)
  const overrides: Partial<TrainConfig> = {
    arch: values.arch,
    width: numberFlag('width', values.width),
    epochs: numberFlag('epochs', values.epochs),
    batchSize: numberFlag('batch-size', values['batch-size']),
    lr: numberFlag('lr', values.lr),
    momentum: numberFlag('momentum', values.momentum),
    weightDecay: numberFlag('weight-decay', values['weight-decay']),
    schedule: values.schedule as TrainConfig['schedule'] | undefined,
    milestones,
    gamma: numberFlag('gamma', values.gamma),
    warmupEpochs: numberFlag('warmup-epochs', values['warmup-epochs']),
    valFraction: numberFlag('val-fraction', values['val-fraction']),
    trainPerClass: numberFlag('train-per-class', values['train-per-class']),
    seed: numberFlag('seed', values.seed),
    augment: values['no-augment'] ? { crop: false, flip: false, rotate: false, rotateDegrees: 15 } : undefined
  }
  // Validate here too, so a typo fails before a process starts.
  const config = resolveTrainConfig(overrides as Record<string, unknown>)
  const stamp = now.toISOString().replace(/[:.]/g, '-').slice(0, 19)
  const outDir = values.out ?? join('workbench-runs', `${stamp}-${config.arch}`)
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined))
  return {
    request: { dataset: values.dataset, classes: listFlag(values.classes), config: defined, outDir },
    json: values.json ?? false
  }
}

/**
 * `cli train`: trains in a trainer process with a live progress bar on stderr; with --json prints
 * `{ bestValAcc, epochs, backend, device, imagesPerSecond, checkpoint }` (and more) on stdout.
 * Ctrl-C stops after the current batch, keeping weights and metrics; a second Ctrl-C kills.
 */
export async function runTrainCommand(argv: string[]): Promise<number> {
  const { request, json } = parseTrainArgs(argv)
  const host = new TrainerHost(forkTrainerProcess())
  const job = host.train(request, createTrainProgress())
  let interrupts = 0
  const onInterrupt = (): void => {
    interrupts++
    process.stderr.write(interrupts === 1 ? '\nstopping after this batch (Ctrl-C again to kill)\n' : '\nkilling the trainer\n')
    if (interrupts === 1) host.cancel(job.jobId)
    else void host.shutdown()
  }
  process.on('SIGINT', onInterrupt)
  try {
    const outcome = await job.outcome
    const summary = {
      bestValAcc: outcome.bestValAcc,
      epochs: outcome.epochs,
      backend: outcome.backend,
      device: outcome.device,
      imagesPerSecond: Number(outcome.imagesPerSecond.toFixed(1)),
      checkpoint: outcome.checkpoint,
      status: outcome.status,
      bestEpoch: outcome.bestEpoch,
      testAcc: outcome.testAcc,
      seconds: Number(outcome.seconds.toFixed(1)),
      notes: outcome.notes
    }
    for (const note of outcome.notes) process.stderr.write(`note: ${note}\n`)
    if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
    else {
      process.stdout.write(
        `${outcome.status}: best val acc ${outcome.bestValAcc?.toFixed(4) ?? 'n/a'} (epoch ${outcome.bestEpoch ?? '-'})` +
          `${outcome.testAcc !== null ? `, test acc ${outcome.testAcc.toFixed(4)}` : ''}` +
          ` · ${outcome.imagesPerSecond.toFixed(0)} img/s on ${outcome.backend}/${outcome.device} · ${outcome.checkpoint}\n`
      )
    }
    return outcome.status === 'completed' ? 0 : 130
  } finally {
    process.off('SIGINT', onInterrupt)
    await host.shutdown()
  }
}
