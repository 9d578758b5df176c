import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ProjectSession } from '../../../src/engine/api/project-session'
import type { RunManager } from '../../../src/engine/api/run-manager'
import { createJsonSettingsStore } from '../../../src/engine/api/settings-store'
import { listRuns, readRun, writeRun } from '../../../src/engine/project/project-store'
import { mergeRunState, readProjectStatus } from '../../../src/engine/slurm/status'
import { writeProjectPlan } from '../../../src/engine/train/sweep'
import type { SlurmRunner } from '../../../src/engine/slurm/slurm-commands'
import { runCli } from '../../helpers/run-cli'
import { makeSweepProject } from '../slurm/helpers/sweep-project'

/** No Slurm here: every command "is not found". */
const noSlurm: SlurmRunner = async () => ({ code: 127, stdout: '', stderr: 'command not found' })

/** A planned project (2 bases, 2 transfers) with one base done and the other base's run.json replaced by garbage. */
async function projectWithGarbage(garbage: string): Promise<{ project: string; bad: string; good: string[] }> {
  const project = await makeSweepProject({}, [1])
  const runs = await writeProjectPlan(project)
  const [doneBase, badBase] = runs.filter((r) => r.kind === 'base') as [(typeof runs)[number], (typeof runs)[number]]
  await writeRun(project, { ...doneBase, status: 'done', epochs: 1, bestValAcc: 0.5 })
  await writeFile(join(project, 'runs', badBase.id, 'run.json'), garbage)
  return { project, bad: badBase.id, good: runs.filter((r) => r.id !== badBase.id).map((r) => r.id) }
}

describe('one unreadable run.json', () => {
  it('is listed as unreadable with the reason naming the file; the other runs read normally; nothing is rewritten', async () => {
    const { project, bad, good } = await projectWithGarbage('{"id": "x", "kind": ')
    const runs = await listRuns(project)
    expect(runs.map((r) => r.id).sort()).toEqual([bad, ...good].sort())
    const unreadable = runs.find((r) => r.id === bad)
    expect(unreadable?.status).toBe('unreadable')
    expect(unreadable?.error).toMatch(new RegExp(`runs/${bad}/run\\.json: cannot read run record: .*JSON`))
    expect(runs.filter((r) => r.id !== bad).map((r) => r.status).sort()).toEqual(['done', 'planned', 'planned'])
    await expect(readRun(project, bad)).rejects.toThrow(`${bad}/run.json`)
    expect(await readFile(join(project, 'runs', bad, 'run.json'), 'utf8')).toBe('{"id": "x", "kind": ')
  })

  it('valid JSON that is not a run record is unreadable too, saying what is missing', async () => {
    const { project, bad } = await projectWithGarbage('[1, 2, 3]')
    expect((await listRuns(project)).find((r) => r.id === bad)).toMatchObject({ status: 'unreadable', error: expect.stringMatching(/run\.json: not a run record/) })
    const { project: p2, bad: b2 } = await projectWithGarbage(JSON.stringify({ id: 'x', kind: 'base', status: 'sideways', config: {}, to: 'A', createdAt: '' }))
    expect((await listRuns(p2)).find((r) => r.id === b2)?.error).toMatch(/status is "sideways"/)
  })

  it('status: the run shows as unreadable with the reason, the others as usual', async () => {
    const { project, bad } = await projectWithGarbage('\u0000\u0001garbage')
    const status = await readProjectStatus(project, noSlurm)
    const row = status.rows.find((r) => r.id === bad)
    expect(row).toMatchObject({ state: 'unreadable', runStatus: 'unreadable', label: `${bad} (run.json unreadable)` })
    expect(row?.detail).toMatch(/run\.json: cannot read run record/)
    expect(status.counts).toMatchObject({ unreadable: 1, done: 1, planned: 2 })
    expect(mergeRunState({ status: 'unreadable', error: 'why' }, undefined, undefined)).toEqual({ state: 'unreadable', detail: 'why' })
  })

  it('the app opens the project: the view lists every run, the bad one unreadable', async () => {
    const { project, bad } = await projectWithGarbage('not json at all')
    const events: unknown[] = []
    const session = new ProjectSession({ runs: {} as RunManager, settings: createJsonSettingsStore(join(project, 'settings.json')), emit: (e) => events.push(e) })
    const view = await session.open(project)
    expect(view.runs).toHaveLength(4)
    expect(view.runs.find((r) => r.id === bad)).toMatchObject({ status: 'unreadable', error: expect.stringContaining('run.json') })
    expect(session.current).toBe(project)
    expect(await session.transferCurve({ from: 'A', to: 'B' })).toMatchObject({ to: 'B' })
  })

  it('cli report --json lists it as unreadable with the reason and the others normally', async () => {
    const { project, bad } = await projectWithGarbage('{ garbage')
    const result = await runCli(['report', '--project', project, '--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as { runs: { id: string; status: string; error: string | null; kind: string }[] }
    expect(report.runs).toHaveLength(4)
    expect(report.runs.find((r) => r.id === bad)).toMatchObject({ status: 'unreadable', error: expect.stringMatching(/run\.json: cannot read run record/) })
    expect(report.runs.filter((r) => r.id !== bad).map((r) => r.status).sort()).toEqual(['done', 'planned', 'planned'])
    const csv = await runCli(['report', '--project', project, '--csv'])
    expect(csv.code, csv.stderr).toBe(0)
    expect(csv.stdout).toContain(`${bad},base,,,,,unreadable`)
  }, 60_000)
})
