import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ProjectSession } from '../../../src/engine/api/project-session'
import type { RunManager } from '../../../src/engine/api/run-manager'
import { createJsonSettingsStore } from '../../../src/engine/api/settings-store'
import type { SweepStatus } from '../../../src/shared/contract'
import { readRun, writeRun } from '../../../src/engine/project/project-store'
import { acquireRunLock, isRunBusyError, runLockHolder, runLockPath, RUN_LOCK_FILE } from '../../../src/engine/project/run-lock'
import { runSlurmTask } from '../../../src/engine/slurm/run-task'
import { submitProject } from '../../../src/engine/slurm/submit'
import { runPlanned } from '../../../src/engine/train/run-planned'
import { writeProjectPlan, sweepProject, type PlannedRunExecutor, type SweepEvent } from '../../../src/engine/train/sweep'
import { FakeSlurm } from '../slurm/helpers/fake-slurm'
import { makeSweepProject } from '../slurm/helpers/sweep-project'

/** An executor that "trains" a run by marking it done, recording the order. */
function fakeExecutor(trained: string[]): PlannedRunExecutor {
  return async ({ projectDir, runId }) => {
    trained.push(runId)
    await writeRun(projectDir, { ...(await readRun(projectDir, runId)), status: 'done', epochs: 1 })
    return { status: 'done', epochs: 1, bestValAcc: null, bestEpoch: null, testAcc: null, imagesPerSecond: 0, seconds: 0, backend: 'x', device: 'x', checkpoint: '', notes: [] }
  }
}

async function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '0'])
    child.on('exit', () => resolve(child.pid as number))
  })
}

describe('run lock', () => {
  it('runPlanned refuses a run another live process holds, writing nothing; a dead holder’s lock is broken', async () => {
    const project = await makeSweepProject({}, [1])
    const [base] = await writeProjectPlan(project)
    const runId = base!.id
    const held = await acquireRunLock(project, runId)
    expect((await runLockHolder(project, runId))?.token).toBe(held.owner.token)
    const error = await runPlanned(project, runId, () => undefined).catch((e: Error) => e)
    expect(isRunBusyError(error)).toBe(true)
    expect((error as Error).message).toMatch(new RegExp(`run ${runId} is being trained by another process \\(training run ${runId} by pid ${process.pid} on `))
    expect((await readRun(project, runId)).status).toBe('planned')
    expect(await held.release()).toBe(true)
    expect(existsSync(runLockPath(project, runId))).toBe(false)

    // Left by a process that died: not a holder, and the next taker breaks it.
    await writeFile(join(project, 'runs', runId, RUN_LOCK_FILE), JSON.stringify({ token: 'gone', host: hostname(), pid: await deadPid(), acquiredAt: '', purpose: 'crashed' }))
    expect(await runLockHolder(project, runId)).toBeUndefined()
    const taken = await acquireRunLock(project, runId)
    expect(await taken.release()).toBe(true)
  })

  it('a sweep leaves a held run to its holder and says so, does the rest, waits, then takes up what the holder left unfinished', async () => {
    const project = await makeSweepProject({}, [1])
    const order = await writeProjectPlan(project)
    const baseA = order.find((r) => r.kind === 'base' && r.to === 'A')!.id
    const baseB = order.find((r) => r.kind === 'base' && r.to === 'B')!.id
    const transferFromA = order.find((r) => r.kind === 'transfer' && r.sourceRunId === baseA)!.id
    const transferFromB = order.find((r) => r.kind === 'transfer' && r.sourceRunId === baseB)!.id
    const held = await acquireRunLock(project, baseA)
    const trained: string[] = []
    const events: SweepEvent[] = []
    const sweep = sweepProject(project, fakeExecutor(trained), (e) => {
      events.push(e)
      // Once the sweep waits, the "other process" ends without finishing its run (it died or was stopped).
      if (e.type === 'waiting') void held.release()
    }, () => false, { pollMs: 20 })
    const runs = await sweep
    expect(runs.every((r) => r.status === 'done')).toBe(true)
    // Every run once; base A and the transfer from it only after the holder let go.
    expect(trained).toEqual([baseB, transferFromB, baseA, transferFromA])
    const busy = events.filter((e): e is Extract<SweepEvent, { type: 'run-busy' }> => e.type === 'run-busy')
    expect(busy.map((e) => e.run.id)).toEqual([baseA, transferFromA])
    expect(busy[0]?.reason).toMatch(new RegExp(`being trained by another process \\(training run ${baseA} by pid ${process.pid}`))
    expect(busy[1]?.reason).toMatch(new RegExp(`its base ${baseA} is being trained by another process`))
    expect(events.filter((e) => e.type === 'waiting')).toHaveLength(1)
  })

  it('a run the holder finishes meanwhile is not trained again', async () => {
    const project = await makeSweepProject({}, [1])
    const order = await writeProjectPlan(project)
    const baseA = order.find((r) => r.kind === 'base' && r.to === 'A')!.id
    const held = await acquireRunLock(project, baseA)
    const trained: string[] = []
    const runs = await sweepProject(project, fakeExecutor(trained), (e) => {
      if (e.type === 'waiting') void (async () => {
        await writeRun(project, { ...(await readRun(project, baseA)), status: 'done' })
        await held.release()
      })()
    }, () => false, { pollMs: 20 })
    expect(runs.every((r) => r.status === 'done')).toBe(true)
    expect(trained).not.toContain(baseA)
    expect(trained).toHaveLength(3)
  })

  it('a sweep that races for the run (the trainer says RunBusyError) leaves it too', async () => {
    const project = await makeSweepProject({}, [1])
    const order = await writeProjectPlan(project)
    const first = order[0]!.id
    const trained: string[] = []
    const inner = fakeExecutor(trained)
    let raced = false
    const events: SweepEvent[] = []
    await sweepProject(project, async (request, onEvent) => {
      if (request.runId === first && !raced) {
        raced = true
        throw Object.assign(new Error(`run ${first} is being trained by another process (…)`), { name: 'RunBusyError' })
      }
      return inner(request, onEvent)
    }, (e) => events.push(e), () => false, { pollMs: 20 })
    expect(trained.filter((id) => id === first)).toHaveLength(1)
    expect(events.some((e) => e.type === 'run-busy' && e.run.id === first)).toBe(true)
  })

  it('the app: its sweep leaves a run held elsewhere (saying so in the sweep status), and one the trainer finds taken', async () => {
    const project = await makeSweepProject({}, [1])
    const order = await writeProjectPlan(project)
    const baseA = order.find((r) => r.kind === 'base' && r.to === 'A')!.id
    const baseB = order.find((r) => r.kind === 'base' && r.to === 'B')!.id
    const held = await acquireRunLock(project, baseA)
    const trained: string[] = []
    const execute = fakeExecutor(trained)
    let raced = false
    // Stands in for the run manager: base B is "taken by another process" the first time, as the trainer reports it.
    const runs = {
      async resumeOrStart(projectDir: string, runId: string) {
        if (runId === baseB && !raced) {
          raced = true
          return { runId, ended: Promise.resolve({ runId, status: 'failed', outcome: null, error: { name: 'ApiError', code: 'busy', message: `run ${runId} is being trained by another process (…)` } }) }
        }
        const outcome = await execute({ projectDir, runId }, () => undefined)
        return { runId, ended: Promise.resolve({ runId, status: 'done', outcome, error: null }) }
      }
    } as unknown as RunManager
    const statuses: SweepStatus[] = []
    const session = new ProjectSession({ runs, settings: createJsonSettingsStore(join(project, 'settings.json')), emit: (e) => {
      if (e.type !== 'sweep:status') return
      statuses.push(e.status)
      if (e.status.message.startsWith('waiting for')) void held.release()
    } })
    await session.open(project)
    session.startSweep()
    const deadline = Date.now() + 20_000
    while (session.sweepStatus().state === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(session.sweepStatus().state, JSON.stringify(statuses.at(-1))).toBe('done')
    expect(statuses.some((s) => s.message.includes(`being trained by another process (training run ${baseA} by pid ${process.pid}`))).toBe(true)
    expect([...trained].sort()).toEqual(order.map((r) => r.id).sort())
  })

  it('a Slurm task for a held run waits, then gives up naming the holder', async () => {
    const project = await makeSweepProject({}, [1])
    const [base] = await writeProjectPlan(project)
    const held = await acquireRunLock(project, base!.id)
    const said: string[] = []
    const error = await runSlurmTask(project, base!.id, (e) => e.type === 'status' && said.push(e.message), new AbortController().signal, {}, { lockWaitMs: 300 }).catch((e: Error) => e)
    expect(isRunBusyError(error)).toBe(true)
    expect(said[0]).toMatch(/is being trained by another process .*; waiting/)
    await held.release()
  })

  it('Slurm submission leaves runs trained elsewhere alone, and the transfers from them', async () => {
    const project = await makeSweepProject({}, [1])
    const order = await writeProjectPlan(project)
    const baseA = order.find((r) => r.kind === 'base' && r.to === 'A')!.id
    const fromA = order.find((r) => r.sourceRunId === baseA)!.id
    const held = await acquireRunLock(project, baseA)
    const slurm = new FakeSlurm()
    const result = await submitProject(project, { slurm: { partition: 'gpu' }, launcher: { cwd: '/opt/wb', argv: ['/usr/bin/node', '/opt/wb/cli.js'] }, run: slurm.run })
    const submitted = result.submission?.arrays.flatMap((a) => a.runIds) ?? []
    expect(submitted).toHaveLength(2)
    expect(submitted).not.toContain(baseA)
    expect(submitted).not.toContain(fromA)
    expect(result.leftAlone.map((l) => l.runId)).toEqual([baseA, fromA])
    expect(result.leftAlone[0]?.reason).toMatch(/being trained by another process \(training run/)
    expect(result.leftAlone[1]?.reason).toMatch(new RegExp(`its base ${baseA} is not submitted`))
    await held.release()
  })
})
