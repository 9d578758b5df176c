import type { RunRecord } from '../../shared/project'
import { compareRunOrder } from '../../shared/run-order'
import type { PlannedRunRequest, TrainEvent, TrainOutcome } from '../../shared/train-request'
import { listRuns, readProject, readRun, writeRun, runDir } from '../project/project-store'
import { describeLockOwner } from '../project/project-lock'
import { isRunBusyError, runLockHolder } from '../project/run-lock'
import { planExperiment } from './plan-sweep'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { RUN_FILE } from '../project/project-store'

/** Runs one planned run somewhere (the trainer process, or in-process for a Slurm task). */
export type PlannedRunExecutor = (request: PlannedRunRequest, onEvent: (event: TrainEvent) => void) => Promise<TrainOutcome>

/** What a sweep reports: which run of how many, and that run's own events. */
export type SweepEvent =
  | { type: 'run-start'; run: RunRecord; index: number; total: number }
  | { type: 'run-event'; run: RunRecord; index: number; total: number; event: TrainEvent }
  | { type: 'run-end'; run: RunRecord; index: number; total: number }
  | { type: 'run-skipped'; run: RunRecord; reason: string }
  /** Another live process trains this run (or the base it needs): left to it, looked at again when it lets go. */
  | { type: 'run-busy'; run: RunRecord; reason: string }
  /** Everything this sweep could do is done; it waits for runs other processes hold. */
  | { type: 'waiting'; runIds: string[]; message: string }

/**
 * Writes the planned runs of every experiment into the project: new runs get a `run.json` with
 * status `planned`; existing ones are left alone (same content → same id → planned once).
 * Returns all of the project's planned runs in plan order (bases first).
 */
export async function writeProjectPlan(projectDir: string): Promise<RunRecord[]> {
  const manifest = await readProject(projectDir)
  const planned = new Map<string, RunRecord>()
  for (const experiment of manifest.experiments) for (const run of planExperiment(experiment)) if (!planned.has(run.id)) planned.set(run.id, run)
  // The project's one run order (bases first): the monitor's queue shows the runs in this order.
  const ordered = [...planned.values()].sort(compareRunOrder)
  for (const run of ordered) {
    if (!existsSync(join(runDir(projectDir, run.id), RUN_FILE))) await writeRun(projectDir, run)
  }
  return ordered
}

/** Options of {@link sweepProject}. */
export interface SweepProjectOptions {
  /** How often to look whether runs held by other processes were let go (ms). Default 1000. */
  pollMs?: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs everything in the project that is not done, one run at a time, bases first: planned,
 * interrupted, cancelled and failed runs alike (a resumed run continues from its last epoch).
 * A transfer whose base did not finish is skipped with the reason; a run.json that cannot be read is
 * skipped with its reason too. Several sweeps (and Slurm tasks, and the app) may work on one project at
 * once: a run another live process trains — its run lock is held — is left to it and said so
 * (`run-busy`), as is a transfer whose base it trains, and the sweep goes on with what is left. When
 * nothing else is left it waits for those runs to be let go (`waiting`) and then takes up any that
 * did not end done (their holder died, or stopped them). Stops early when `shouldStop`.
 */
export async function sweepProject(
  projectDir: string,
  execute: PlannedRunExecutor,
  onEvent: (event: SweepEvent) => void,
  shouldStop: () => boolean = () => false,
  options: SweepProjectOptions = {}
): Promise<RunRecord[]> {
  const order = await writeProjectPlan(projectDir)
  let queue: RunRecord[] = []
  for (const run of order) {
    const current = await readRunOrSkip(projectDir, run, onEvent)
    if (current && current.status !== 'done') queue.push(current)
  }
  const total = queue.length
  let index = 0
  // Announced once per run and holder, not on every look.
  const announced = new Map<string, string>()
  const busy = (run: RunRecord, holderKey: string, reason: string): void => {
    if (announced.get(run.id) === holderKey) return
    announced.set(run.id, holderKey)
    onEvent({ type: 'run-busy', run, reason })
  }
  while (queue.length > 0) {
    const later: RunRecord[] = []
    const blockers = new Set<string>()
    for (const planned of queue) {
      if (shouldStop()) return listRuns(projectDir)
      // Read again: another process may have finished (or broken) it since the last look.
      const run = await readRunOrSkip(projectDir, planned, onEvent)
      if (!run || run.status === 'done') continue
      const holder = await runLockHolder(projectDir, run.id)
      if (holder) {
        busy(run, holder.token, `being trained by another process (${describeLockOwner(holder)}); left to it`)
        later.push(run)
        blockers.add(run.id)
        continue
      }
      if (run.kind === 'transfer' && run.sourceRunId) {
        const sourceId = run.sourceRunId
        const source = await readRun(projectDir, sourceId).catch(() => undefined)
        if (source?.status !== 'done') {
          const sourceHolder = await runLockHolder(projectDir, sourceId)
          if (sourceHolder || later.some((r) => r.id === sourceId)) {
            busy(run, `source:${sourceHolder?.token ?? 'later'}`, `its base ${sourceId} is being trained by another process${sourceHolder ? ` (${describeLockOwner(sourceHolder)})` : ''}; waiting for it`)
            later.push(run)
            blockers.add(sourceId)
            continue
          }
          onEvent({ type: 'run-skipped', run, reason: source ? `its base ${source.id} is ${source.status}` : `its base ${sourceId} cannot be read` })
          continue
        }
      }
      index++
      onEvent({ type: 'run-start', run, index, total })
      try {
        await execute({ projectDir, runId: run.id }, (event) => onEvent({ type: 'run-event', run, index, total, event }))
      } catch (error) {
        // Another process took the run between the look above and the trainer's attempt.
        if (!isRunBusyError(error)) throw error
        index--
        busy(run, 'raced', `${(error as Error).message}; left to it`)
        later.push(run)
        blockers.add(run.id)
        continue
      }
      onEvent({ type: 'run-end', run: await readRun(projectDir, run.id), index, total })
    }
    queue = later
    if (queue.length === 0) break
    // Until one of them is let go (maybe already): then look at everything left again.
    let said = false
    for (;;) {
      if (shouldStop()) return listRuns(projectDir)
      const held = await Promise.all([...blockers].map((id) => runLockHolder(projectDir, id)))
      if (held.some((h) => h === undefined)) break
      if (!said) onEvent({ type: 'waiting', runIds: queue.map((r) => r.id), message: `waiting for ${blockers.size} run${blockers.size === 1 ? '' : 's'} that other processes are training (${[...blockers].join(', ')})` })
      said = true
      await sleep(options.pollMs ?? 1000)
    }
  }
  return listRuns(projectDir)
}

/** A run's current record, or undefined (said as `run-skipped`) when its run.json cannot be read. */
async function readRunOrSkip(projectDir: string, run: RunRecord, onEvent: (event: SweepEvent) => void): Promise<RunRecord | undefined> {
  try {
    return await readRun(projectDir, run.id)
  } catch (error) {
    onEvent({ type: 'run-skipped', run, reason: (error as Error).message })
    return undefined
  }
}
