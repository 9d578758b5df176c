import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Experiment, RunRecord } from '../../../src/shared/project'
import type { TrainConfig } from '../../../src/shared/train-config'
import { writeRun } from '../../../src/engine/project/project-store'
import { planExperiment } from '../../../src/engine/train/plan-sweep'
import { runPlanned } from '../../../src/engine/train/run-planned'

/** A project with a trained base on group A and an AnB run transferred from it at depth n. */
export interface TrainedProject {
  dir: string
  base: RunRecord
  transfer: RunRecord
}

/**
 * Trains a base on group A and AnB at depth n from it, in-process, into a fresh temp project (the
 * target's own base is planned but not trained: nothing here needs it).
 */
export async function trainTransferProject(options: {
  dataset: string
  groups: { A: string[]; B: string[] }
  n: number
  config: Partial<TrainConfig>
}): Promise<TrainedProject> {
  const dir = await mkdtemp(join(tmpdir(), 'wb-viz-'))
  const experiment: Experiment = {
    id: 'viz',
    name: 'viz test',
    dataset: options.dataset,
    groups: options.groups,
    bases: [],
    transfers: [{ from: 'A', to: 'B', variants: ['AnB'], n: [options.n] }],
    config: options.config
  }
  const planned = planExperiment(experiment)
  for (const run of planned) await writeRun(dir, run)
  const base = planned.find((r) => r.kind === 'base' && r.to === 'A') as RunRecord
  const transfer = planned.find((r) => r.kind === 'transfer') as RunRecord
  for (const run of [base, transfer]) {
    const outcome = await runPlanned(dir, run.id, () => {})
    if (outcome.status !== 'done') throw new Error(`fixture run ${run.id} ended ${outcome.status}`)
  }
  return { dir, base, transfer }
}
