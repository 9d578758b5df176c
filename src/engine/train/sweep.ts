import type { RunRecord } from '../../shared/project'
import type { PlannedRunRequest, TrainEvent, TrainOutcome } from '../../shared/train-request'
import { listRuns, readProject, readRun, writeRun, runDir } from '../project/project-store'
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

/**
 * Writes the planned runs of every experiment into the project: new runs get a `run.json` with
 * status `planned`; existing ones are left alone (same content → same id → planned once).
 * Returns all of the project's planned runs in plan order (bases first).
 */
export async function planProject(projectDir: string): Promise<RunRecord[]> {
  const manifest = await readProject(projectDir)
  const planned = new Map<string, RunRecord>()
  for (const experiment of manifest.experiments) for (const run of planExperiment(experiment)) if (!planned.has(run.id)) planned.set(run.id, run)
  const ordered = [...planned.values()].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'base' ? -1 : 1))
  for (const run of ordered) {
    if (!existsSync(join(runDir(projectDir, run.id), RUN_FILE))) await writeRun(projectDir, run)
  }
  return ordered
}

/**
 * Runs everything in the project that is not done, one run at a time, bases first: planned,
 * interrupted, cancelled and failed runs alike (a resumed run continues from its last epoch).
 * A transfer whose base did not finish is skipped with the reason. Stops early when `shouldStop`.
 */
export async function runProject(
  projectDir: string,
  execute: PlannedRunExecutor,
  onEvent: (event: SweepEvent) => void,
  shouldStop: () => boolean = () => false
): Promise<RunRecord[]> {
  const order = await planProject(projectDir)
  const pending: RunRecord[] = []
  for (const run of order) {
    const current = await readRun(projectDir, run.id)
    if (current.status !== 'done') pending.push(current)
  }
  let index = 0
  for (const run of pending) {
    if (shouldStop()) break
    index++
    if (run.kind === 'transfer' && run.sourceRunId) {
      const source = await readRun(projectDir, run.sourceRunId)
      if (source.status !== 'done') {
        onEvent({ type: 'run-skipped', run, reason: `its base ${source.id} is ${source.status}` })
        continue
      }
    }
    onEvent({ type: 'run-start', run, index, total: pending.length })
    await execute({ projectDir, runId: run.id }, (event) => onEvent({ type: 'run-event', run, index, total: pending.length, event }))
    onEvent({ type: 'run-end', run: await readRun(projectDir, run.id), index, total: pending.length })
  }
  return listRuns(projectDir)
}
