import type { RunRecord } from '../../shared/project'
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../shared/train-config'
import type { TrainOutcome } from '../../shared/train-request'

/** What identifies a run; everything else starts blank. */
export type RunIdentity = Pick<RunRecord, 'id' | 'kind' | 'variant' | 'n' | 'sourceRunId' | 'from' | 'to' | 'experimentId' | 'dataset' | 'classes'> & { name?: string }

/** A freshly planned run: status `planned`, nothing measured yet, the config frozen in. */
export function newRunRecord(identity: RunIdentity, config: TrainConfig, now = new Date()): RunRecord {
  return {
    ...identity,
    config,
    seed: config.seed,
    backend: null,
    device: null,
    status: 'planned',
    bestValAcc: null,
    bestEpoch: null,
    epochs: 0,
    testAcc: null,
    imagesPerSecond: null,
    createdAt: now.toISOString(),
    startedAt: null,
    finishedAt: null,
    seconds: 0,
    error: null,
    notes: []
  }
}

/** The outcome a training job reports for a run record that has ended. */
export function outcomeOf(record: RunRecord, checkpoint: string): TrainOutcome {
  return {
    status: record.status === 'done' ? 'done' : 'cancelled',
    epochs: record.epochs,
    bestValAcc: record.bestValAcc,
    bestEpoch: record.bestEpoch,
    testAcc: record.testAcc,
    imagesPerSecond: record.imagesPerSecond ?? 0,
    seconds: record.seconds,
    backend: record.backend ?? 'unknown',
    device: record.device ?? 'unknown',
    checkpoint,
    notes: record.notes
  }
}

/**
 * How lists show a run whose run.json cannot be read: status `unreadable`, the reason in `error`
 * (naming the file), the folder name as id and label; nothing else is known, so nothing else is
 * claimed (default config but 0 epochs, so no progress is computed from it; no groups). Never written back: the damaged file stays for the user.
 */
export function unreadableRun(id: string, reason: string, modified: Date): RunRecord {
  return {
    ...newRunRecord({ id, name: `${id} (run.json unreadable)`, kind: 'base', variant: null, n: null, sourceRunId: null, from: null, to: '', experimentId: null, dataset: '', classes: [] }, { ...DEFAULT_TRAIN_CONFIG, epochs: 0 }, modified),
    status: 'unreadable',
    error: reason
  }
}

/** One line for the UI and the progress bar: "AnB n=3 A→B" or "base B" (or the label of an unreadable run). */
export function describeRun(run: Pick<RunRecord, 'kind' | 'variant' | 'n' | 'from' | 'to'> & Partial<Pick<RunRecord, 'status' | 'name'>>): string {
  if (run.status === 'unreadable') return run.name ?? 'run.json unreadable'
  return run.kind === 'base' ? `base ${run.to}` : `${run.variant} n=${run.n} ${run.from}→${run.to}`
}
