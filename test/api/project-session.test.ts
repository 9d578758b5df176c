import { writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import type { Experiment } from '../../src/shared/project'
import { connectInMemory, createTestServer, recordEvents } from './workbench-harness'

// Projects through the contract: the real engine and trainer process, the demo dataset, tiny runs.
let server: WorkbenchServer
let client: WorkbenchClient
let recorder: ReturnType<typeof recordEvents>
let dir: string

beforeAll(async () => {
  ;({ server, dir } = await createTestServer())
  client = connectInMemory(server)
  recorder = recordEvents(client)
})

afterAll(async () => {
  client.close()
  await server.shutdown()
})

const experiment: Experiment = {
  id: 'exp-demo',
  name: 'A→B',
  dataset: 'demo',
  groups: { A: ['stripes-h', 'stripes-v', 'checker'], B: ['disc', 'ring', 'cross'] },
  bases: [],
  transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'BnB'], n: [2] }],
  config: { width: 1 / 16, epochs: 1, batchSize: 32, trainPerClass: 16, lr: 0.05 }
}

describe('projects over the contract', () => {
  it('creates a project, previews and saves an experiment, runs the sweep, and returns the transfer curve', async () => {
    const projectDir = join(dir, 'study')
    const created = await client.api.createProject({ dir: projectDir, name: 'Study' })
    expect(created.manifest.name).toBe('Study')
    expect((await client.api.getRecentProjects())[0].path).toBe(projectDir)

    const plan = await client.api.planExperiment({ experiment })
    expect(plan.runs.map((r) => r.kind)).toEqual(['base', 'base', 'transfer', 'transfer'])
    expect(plan.warnings).toEqual([])
    const overlapping = await client.api.planExperiment({ experiment: { ...experiment, groups: { A: ['disc', 'ring'], B: ['disc', 'cross'] } } })
    expect(overlapping.warnings[0]).toMatch(/share disc/)

    const saved = await client.api.saveExperiment({ experiment })
    expect(saved.runs.filter((r) => r.status === 'planned')).toHaveLength(4)

    const started = await client.api.startSweep()
    expect(started.state).toBe('running')
    await expect(client.api.startSweep()).rejects.toMatchObject({ code: 'busy' })
    const end = await recorder.waitFor((e) => e.type === 'sweep:status' && e.status.state !== 'running', 240_000)
    expect(end.type === 'sweep:status' && end.status).toMatchObject({ state: 'done', total: 4 })

    const project = await client.api.getProject()
    expect(project?.runs.every((r) => r.status === 'done')).toBe(true)
    const curve = await client.api.getTransferCurve({ from: 'A', to: 'B' })
    expect(curve.baseline?.bestValAcc).toBeGreaterThanOrEqual(0)
    expect(curve.series.map((s) => [s.variant, s.points.map((p) => p.n)])).toEqual([['AnB', [2]], ['BnB', [2]]])
    const matrix = await client.api.getSimilarityMatrix({ n: 2 })
    expect(matrix).toMatchObject({ sources: ['A'], targets: ['B'] })
    // Runs of the open project answer metrics requests too.
    const metrics = await client.api.getRunMetrics({ runId: project!.runs[0].id })
    expect(metrics.some((m) => m.type === 'epoch')).toBe(true)

    // Confusion matrix of a transfer run's best weights, on the validation split it was trained with.
    const transfer = project!.runs.find((r) => r.kind === 'transfer')!
    const evaluation = await client.api.getRunEvaluation({ runId: transfer.id })
    expect(evaluation.classNames).toEqual(['disc', 'ring', 'cross'])
    const val = evaluation.splits.find((s) => s.split === 'val')!
    expect(val.counts.flat().reduce((a, b) => a + b, 0)).toBe(val.total)
    // The accuracy it reports is the run's own best validation accuracy, recomputed.
    expect(val.accuracy).toBeCloseTo(transfer.bestValAcc!, 5)
    expect(val.perClassAccuracy).toHaveLength(3)

    // Look inside through the same contract: the first conv's filters as data and as a PNG.
    const filters = await client.api.runViz({ kind: 'filters', request: { runId: transfer.id, layer: 'conv 1-1' }, png: true })
    expect(filters.png).toMatch(/^data:image\/png;base64,/)
    expect(filters.data.layer).toBe('block1_conv1')
    await expect(client.api.runViz({ kind: 'filters', request: { runId: transfer.id, layer: 'block9_conv1' } })).rejects.toMatchObject({ message: expect.stringMatching(/block9_conv1/) })

    // A frozen-feature study on the base of group A, as a job with progress events.
    const base = project!.runs.find((r) => r.kind === 'base' && r.to === 'A')!
    const { jobId } = await client.api.startFeatureStudy({ source: base.id, layer: 'fc1', dataset: 'demo', classes: ['disc', 'ring', 'cross'], shots: [2, 4], draws: 1, testPerClass: 4, timeFullPass: false })
    const studyEnd = await recorder.waitFor((e) => (e.type === 'features:done' || e.type === 'features:failed') && e.jobId === jobId, 120_000)
    if (studyEnd.type !== 'features:done') throw new Error(`feature study failed: ${JSON.stringify(studyEnd)}`)
    expect(studyEnd.result.shots.map((s) => s.k)).toEqual([2, 4])
    expect(recorder.events.some((e) => e.type === 'features:progress' && e.jobId === jobId)).toBe(true)

    // A base others were transferred from cannot go first; the transfer can.
    await expect(client.api.deleteRun({ runId: transfer.sourceRunId! })).rejects.toMatchObject({ message: expect.stringMatching(/delete them first/) })
    const after = await client.api.deleteRun({ runId: transfer.id })
    expect(after.runs.map((r) => r.id)).not.toContain(transfer.id)
  }, 300_000)

  it('refuses a broken or newer project.json with an error naming it, and leaves it as it was', async () => {
    const broken = join(dir, 'broken')
    await mkdir(broken, { recursive: true })
    await writeFile(join(broken, 'project.json'), '{"schemaVersion": 7, "name": "x", "datasets": [], "experiments": []}')
    await expect(client.api.openProject({ dir: broken })).rejects.toMatchObject({ message: expect.stringMatching(/project\.json: schema version 7 is newer/) })
    await expect(client.api.createProject({ dir: broken })).rejects.toMatchObject({ code: 'invalid-request' })
  })

  it('rejects experiments of the wrong shape before anything is written', async () => {
    await expect(client.api.saveExperiment({ experiment: { ...experiment, transfers: [{ from: 'A', to: 'B', variants: ['AnX'], n: [1] }] } as never })).rejects.toMatchObject({ code: 'invalid-request' })
    await expect(client.api.planExperiment({ experiment: { ...experiment, transfers: [{ from: 'A', to: 'Q', variants: ['AnB'], n: [1] }] } })).rejects.toMatchObject({ message: expect.stringMatching(/target group 'Q'/) })
  })
})
