import { describe, expect, it } from 'vitest'
import { listRuns, readProject, readRun, writeProject, writeRun } from '../../../src/engine/project/project-store'
import { submitProject } from '../../../src/engine/slurm/submit'
import { writeProjectPlan } from '../../../src/engine/train/sweep'
import { FakeSlurm } from './helpers/fake-slurm'
import { makeSweepProject } from './helpers/sweep-project'

const launcher = { cwd: '/opt/workbench', argv: ['/usr/bin/node', '/opt/workbench/cli.js'] }

async function setRepeats(project: string, repeats: number): Promise<void> {
  const manifest = await readProject(project)
  manifest.experiments[0]!.repeats = repeats
  await writeProject(project, manifest)
}

describe('repeats in a project: plan, resume and Slurm', () => {
  it('a single-seed project given 2 repeats keeps its done runs and plans (and submits) only the new seed', async () => {
    const project = await makeSweepProject()
    const before = await writeProjectPlan(project)
    expect(before).toHaveLength(6)
    for (const run of before) await writeRun(project, { ...(await readRun(project, run.id)), status: 'done', bestValAcc: 0.5 })

    await setRepeats(project, 2)
    const after = await writeProjectPlan(project)
    expect(after).toHaveLength(12)
    const runs = await listRuns(project)
    expect(runs.filter((r) => r.status === 'done').map((r) => r.id).sort()).toEqual(before.map((r) => r.id).sort())
    expect(runs.filter((r) => r.status === 'planned').every((r) => r.seed === 1)).toBe(true)

    const slurm = new FakeSlurm()
    const submission = (await submitProject(project, { slurm: { partition: 'gpu' }, launcher, run: slurm.run })).submission!
    expect(submission.arrays.map((a) => [a.name, a.runIds.length, a.dependencies])).toEqual([
      ['base', 2, []],
      ['transfer', 4, [submission.arrays[0]!.jobId]]
    ])
    // Each new transfer copies from the new seed's base, which the base array trains.
    const byId = new Map(runs.map((r) => [r.id, r]))
    for (const id of submission.arrays[1]!.runIds) {
      const run = byId.get(id)!
      expect(run.seed).toBe(1)
      expect(submission.arrays[0]!.runIds).toContain(run.sourceRunId)
      expect(byId.get(run.sourceRunId!)!.seed).toBe(1)
    }
  })
})
