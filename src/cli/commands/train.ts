import { parseArgs } from 'node:util'
import { join } from 'node:path'
import { resolveTrainConfig } from '../../shared/train-config'
import type { TrainRequest } from '../../shared/train-request'
import { forkTrainerProcess, TrainerHost } from '../../engine/process/trainer-host'
import { listFlag, UsageError } from '../args'
import { applyBackendFlag } from '../backend-flag'
import { configFromFlags, TRAINING_FLAG_OPTIONS, TRAINING_FLAGS_USAGE } from '../training-flags'
import { createTrainProgress } from '../progress-bar'

export const TRAIN_USAGE = `usage: cli train --dataset <demo|cifar10:DIR|cifar100:DIR|folder:DIR> [--classes a,b,c]
  ${TRAINING_FLAGS_USAGE} [--out DIR] [--json]`

/** Builds the training request from the command line, validating every value. */
export function parseTrainArgs(argv: string[], now = new Date()): { request: TrainRequest; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { ...TRAINING_FLAG_OPTIONS, dataset: { type: 'string' }, classes: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } }
  })
  if (!values.dataset) throw new UsageError('--dataset is required')
  applyBackendFlag(values.backend)
  // Resolved here, so a typo fails before a process starts and the trainer gets the full config (the trainer
  // process checks what it is sent once more: it also serves requests that did not come from this parser).
  const config = resolveTrainConfig(configFromFlags(values))
  const stamp = now.toISOString().replace(/[:.]/g, '-').slice(0, 19)
  const outDir = values.out ?? join('workbench-runs', `${stamp}-${config.arch}`)
  return {
    request: { dataset: values.dataset, classes: listFlag(values.classes), config, outDir },
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
    return outcome.status === 'done' ? 0 : 130
  } finally {
    process.off('SIGINT', onInterrupt)
    await host.shutdown()
  }
}
