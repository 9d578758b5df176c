import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Experiment } from '../../../../src/shared/project'
import type { TrainConfig } from '../../../../src/shared/train-config'
import { createProject, readProject, writeProject } from '../../../../src/engine/project/project-store'

/**
 * A project holding one tiny AnB/BnB experiment on the demo dataset (2 bases + 4 transfers with the
 * default n), the same as `sweep --group A=0,1,2 --group B=3,4,5 --transfer A:B --variants AnB,BnB`.
 */
export async function makeSweepProject(config: Partial<TrainConfig> = {}, n = [1, 5]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wb-slurm-'))
  await createProject(dir, 'slurm-test')
  const experiment: Experiment = {
    id: 'exp-test',
    name: 'A→B',
    dataset: 'demo',
    groups: { A: ['stripes-h', 'stripes-v', 'checker'], B: ['disc', 'ring', 'cross'] },
    bases: [],
    transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'BnB'], n }],
    config: { width: 0.0625, epochs: 1, trainPerClass: 16, ...config }
  }
  const manifest = await readProject(dir)
  manifest.experiments.push(experiment)
  manifest.datasets.push('demo')
  await writeProject(dir, manifest)
  return dir
}
