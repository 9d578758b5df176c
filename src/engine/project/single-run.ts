import { randomBytes } from 'node:crypto'
import type { RunRecord } from '../../shared/project'
import type { TrainConfig } from '../../shared/train-config'
import { newRunRecord } from './run-record'

/** What a single training run (outside any experiment) needs. */
export interface SingleRunInput {
  dataset: string
  /** Classes in label order; all classes of the dataset when omitted. */
  classes?: string[]
  /** The full configuration, already resolved where the request came in (not overrides). */
  config: TrainConfig
  name?: string
}

/**
 * Plans one base run from scratch, to be written into a project (or the scratch folder) and run like
 * any planned run — so it can be resumed, listed and compared the same way.
 */
export function planSingleRun(input: SingleRunInput, now = new Date()): RunRecord {
  const { config } = input
  const id = `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`
  return newRunRecord(
    {
      id,
      name: input.name ?? `${config.arch} ×${config.width} · ${input.dataset.split(':')[0]}`,
      kind: 'base',
      variant: null,
      n: null,
      sourceRunId: null,
      from: null,
      to: 'all',
      experimentId: null,
      dataset: input.dataset,
      classes: input.classes ?? []
    },
    config,
    now
  )
}
