import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { TaskState } from '../../../src/engine/slurm/scheduler-state'
import { cancelProject } from '../../../src/engine/slurm/cancel'
import { mergeRunState, progressOf, readProjectStatus } from '../../../src/engine/slurm/status'
import { submitProject } from '../../../src/engine/slurm/submit'
import type { RunJob } from '../../../src/engine/slurm/submissions'
import { readRun, writeRun } from '../../../src/engine/project/project-store'
import { FakeSlurm } from './helpers/fake-slurm'
import { makeSweepProject } from './helpers/sweep-project'

const job: RunJob = { submissionId: '001', arrayName: 'base', arrayJobId: '5', taskId: 1, jobId: '5_1' }
const task = (state: string, extra: Partial<TaskState> = {}): TaskState => ({ jobId: '5_1', arrayJobId: '5', taskId: 1, state, reason: null, exitCode: null, signal: null, node: 'n1', source: 'squeue', ...extra })

describe('mergeRunState', () => {
  it.each([
    ['done', task('FAILED'), 'done'],
    ['planned', task('PENDING', { reason: 'Dependency' }), 'queued'],
    ['running', task('RUNNING'), 'running'],
    ['planned', task('CANCELLED', { reason: 'DependencyNeverSatisfied' }), 'cancelled'],
    ['running', task('FAILED', { exitCode: 1 }), 'failed'],
    ['interrupted', task('TIMEOUT', { exitCode: 0, signal: 15 }), 'interrupted'],
    ['interrupted', task('PREEMPTED'), 'interrupted'],
    ['running', task('NODE_FAIL'), 'interrupted'],
    ['running', task('COMPLETED', { exitCode: 0 }), 'failed']
  ] as const)('run %s + job %o → %s', (runStatus, t, expected) => {
    expect(mergeRunState({ status: runStatus, error: null }, job, t).state).toBe(expected)
  })

  it('says why: pending reason, exit code, dependency', () => {
    expect(mergeRunState({ status: 'planned', error: null }, job, task('PENDING', { reason: 'Resources' })).detail).toBe('pending: Resources')
    expect(mergeRunState({ status: 'failed', error: 'boom' }, job, task('FAILED', { exitCode: 3 })).detail).toBe('failed, exit code 3: boom')
    expect(mergeRunState({ status: 'planned', error: null }, job, task('CANCELLED', { reason: 'DependencyNeverSatisfied' })).detail).toBe('cancelled: DependencyNeverSatisfied')
    expect(mergeRunState({ status: 'running', error: null }, job, task('OUT_OF_MEMORY', { exitCode: 0, signal: 9 })).detail).toBe('out of memory, exit code 0 (signal 9)')
  })

  it('without scheduler information it follows the run folder', () => {
    expect(mergeRunState({ status: 'running', error: null }, job, undefined, false)).toEqual({ state: 'running', detail: 'no scheduler information' })
    expect(mergeRunState({ status: 'planned', error: null }, job, undefined, false).state).toBe('queued')
    expect(mergeRunState({ status: 'planned', error: null }, undefined, undefined, false).state).toBe('planned')
    // Slurm answered but forgot the job: a run still marked running died unseen.
    expect(mergeRunState({ status: 'running', error: null }, job, undefined, true).state).toBe('interrupted')
  })
})

describe('progressOf', () => {
  it('counts finished epochs plus the current epoch\'s batches', () => {
    const batch = { type: 'batch' as const, epoch: 3, batch: 5, batchesPerEpoch: 10, loss: 1, acc: 0, lr: 0.1, imagesPerSecond: 1, etaSeconds: 1, logged: true }
    expect(progressOf([batch], 4, false)).toBeCloseTo(2.5 / 4)
    expect(progressOf([], 4, false)).toBe(0)
    expect(progressOf([], 4, true)).toBe(1)
  })
})

describe('readProjectStatus and cancelProject', () => {
  it('merges every run with its latest array task, and follows metrics.jsonl as it grows', async () => {
    const project = await makeSweepProject({ epochs: 2 })
    const slurm = new FakeSlurm()
    const submission = (await submitProject(project, { slurm: {}, launcher: { cwd: '/', argv: ['node'] }, run: slurm.run })).submission
    const [baseB, baseA] = submission?.arrays[0]?.runIds as [string, string]
    slurm.set('100_0', 'COMPLETED')
    await writeRun(project, { ...(await readRun(project, baseB)), status: 'done', epochs: 2, bestValAcc: 0.5 })
    slurm.set('100_1', 'RUNNING')
    await writeRun(project, { ...(await readRun(project, baseA)), status: 'running', epochs: 1 })
    await appendFile(join(project, 'runs', baseA, 'metrics.jsonl'), `${JSON.stringify({ type: 'batch', epoch: 2, batch: 1, batchesPerEpoch: 4, loss: 1, acc: 0.3, lr: 0.1, imagesPerSecond: 50, etaSeconds: 3, logged: true })}\n`)

    const status = await readProjectStatus(project, slurm.run)
    expect(status.schedulerAvailable).toBe(true)
    expect(status.counts).toMatchObject({ done: 1, running: 1, queued: 4 })
    const a = status.rows.find((r) => r.id === baseA)
    expect(a).toMatchObject({ state: 'running', jobId: '100_1', node: 'node7', epochs: 1, totalEpochs: 2 })
    expect(a?.progress).toBeCloseTo(1.25 / 2)
    expect(status.rows.filter((r) => r.kind === 'transfer').every((r) => r.detail === 'pending: Dependency')).toBe(true)

    const cancelled = await cancelProject(project, slurm.run)
    expect(cancelled).toEqual({ cancelled: ['100', '101'], activeTasks: 5 })
    expect(slurm.calls.filter((c) => c.command === 'scancel').map((c) => c.args)).toEqual([['100', '101']])
    expect(await cancelProject(project, slurm.run)).toEqual({ cancelled: [], activeTasks: 0 })
  })

  it('on a laptop without Slurm commands, the run folders alone', async () => {
    const project = await makeSweepProject()
    const slurm = new FakeSlurm()
    await submitProject(project, { slurm: {}, launcher: { cwd: '/', argv: ['node'] }, run: slurm.run })
    const status = await readProjectStatus(project, async () => ({ code: 127, stdout: '', stderr: 'not found', missing: true }))
    expect(status.schedulerAvailable).toBe(false)
    expect(status.note).toMatch(/squeue is not installed/)
    expect(status.counts.queued).toBe(6)
  })
})
