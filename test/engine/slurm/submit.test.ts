import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listRuns, readRun, writeRun } from '../../../src/engine/project/project-store'
import { SlurmCommandError } from '../../../src/engine/slurm/slurm-commands'
import { submitProject, type SubmitOptions } from '../../../src/engine/slurm/submit'
import { listSubmissions } from '../../../src/engine/slurm/submissions'
import { FakeSlurm } from './helpers/fake-slurm'
import { makeSweepProject } from './helpers/sweep-project'

const launcher = { cwd: '/opt/workbench', argv: ['/usr/bin/node', '/opt/workbench/cli.js'] }
const options = (slurm: FakeSlurm, extra: Partial<SubmitOptions> = {}): SubmitOptions => ({ slurm: { partition: 'gpu', maxParallel: 2 }, launcher, run: slurm.run, ...extra })

async function setStatus(project: string, runId: string, status: 'done' | 'failed' | 'running'): Promise<void> {
  await writeRun(project, { ...(await readRun(project, runId)), status })
}

describe('submitProject', () => {
  it('submits the bases as one array and the transfers as another that waits for it', async () => {
    const project = await makeSweepProject()
    const slurm = new FakeSlurm()
    const result = await submitProject(project, options(slurm))
    const submission = result.submission
    expect(submission?.id).toBe('001')
    expect(submission?.arrays.map((a) => [a.name, a.runIds.length, a.jobId, a.dependencies])).toEqual([
      ['base', 2, '100', []],
      ['transfer', 4, '101', ['100']]
    ])
    const runs = await listRuns(project)
    expect(runs).toHaveLength(6)
    expect(submission?.arrays[0]?.runIds.every((id) => id.startsWith('base-'))).toBe(true)
    const sbatch = slurm.calls.filter((c) => c.command === 'sbatch' && c.args[0] !== '--version')
    expect(sbatch[1]?.args).toEqual(['--parsable', '--dependency=afterok:100', '--kill-on-invalid-dep=yes', join(project, 'slurm', '001', 'transfer.sbatch')])
    const dir = join(project, 'slurm', '001')
    expect(await readFile(join(dir, 'transfer.runs'), 'utf8')).toBe(`${submission?.arrays[1]?.runIds.join('\n')}\n`)
    const script = await readFile(join(dir, 'base.sbatch'), 'utf8')
    expect(script).toContain('#SBATCH --array=0-1\n') // 2 tasks, throttle 2: no %2 needed
    expect(await readFile(join(dir, 'transfer.sbatch'), 'utf8')).toContain('#SBATCH --array=0-3%2\n')
    expect(script).toContain('#SBATCH --partition=gpu')
    expect(existsSync(join(dir, 'submit.sh')) && existsSync(join(dir, 'logs'))).toBe(true)
    expect((await listSubmissions(project))[0]).toEqual(submission)
  })

  it('resubmits only what is not done and not queued, and chains transfers to bases still running', async () => {
    const project = await makeSweepProject()
    const slurm = new FakeSlurm()
    const first = (await submitProject(project, options(slurm))).submission
    const [baseB, baseA] = first?.arrays[0]?.runIds as [string, string]
    const transfers = first?.arrays[1]?.runIds as string[]
    // base task 0 finished, task 1 failed; the transfers were cancelled for the failed dependency.
    slurm.set('100_0', 'COMPLETED')
    await setStatus(project, baseB, 'done')
    slurm.set('100_1', 'FAILED', 3, 'NonZeroExitCode')
    await setStatus(project, baseA, 'failed')
    for (let i = 0; i < 4; i++) slurm.set(`101_${i}`, 'CANCELLED', 0, 'DependencyNeverSatisfied')

    const second = await submitProject(project, options(slurm))
    expect(second.done).toEqual([baseB])
    expect(second.active).toEqual([])
    expect(second.submission?.id).toBe('002')
    expect(second.submission?.arrays.map((a) => [a.name, a.runIds, a.dependencies])).toEqual([
      ['base', [baseA], []],
      ['transfer', transfers, ['102']]
    ])

    // Now base A is running again (job 102) and one transfer is done: a third resume leaves the base alone
    // and makes the remaining transfers wait for its task.
    slurm.set('102_0', 'RUNNING')
    for (let i = 0; i < 4; i++) slurm.set(`103_${i}`, 'CANCELLED')
    await setStatus(project, transfers[0] as string, 'done')
    const third = await submitProject(project, options(slurm))
    expect(third.active).toEqual([{ runId: baseA, jobId: '102_0', state: 'RUNNING' }])
    expect(third.submission?.arrays.map((a) => [a.name, a.runIds, a.dependencies])).toEqual([['transfer', transfers.slice(1), ['102_0']]])
  })

  it('submits nothing when every run is done or still queued', async () => {
    const project = await makeSweepProject()
    const slurm = new FakeSlurm()
    await submitProject(project, options(slurm))
    const again = await submitProject(project, options(slurm))
    expect(again.submission).toBeNull()
    expect(again.active).toHaveLength(6)
    expect(slurm.jobIds).toEqual(['100', '101'])
  })

  it('two submitters at once send each run once (the project lock)', async () => {
    const project = await makeSweepProject()
    const slurm = new FakeSlurm()
    const results = await Promise.all([submitProject(project, options(slurm)), submitProject(project, options(slurm))])
    expect(results.filter((r) => r.submission !== null)).toHaveLength(1)
    expect(slurm.jobIds).toHaveLength(2)
  })

  it('records a refused sbatch, and a resume submits what is missing', async () => {
    const project = await makeSweepProject()
    const slurm = new FakeSlurm()
    const realRun = slurm.run
    let sbatches = 0
    const run: typeof realRun = (command, args) => {
      if (command === 'sbatch' && args[0] !== '--version' && ++sbatches === 2) slurm.failNextSbatch = 'sbatch: error: Batch job submission failed: Invalid qos specification'
      return realRun(command, args)
    }
    const error = await submitProject(project, { ...options(slurm), run }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(SlurmCommandError)
    expect((error as Error).message).toContain('Invalid qos')
    const [record] = await listSubmissions(project)
    expect(record?.arrays.map((a) => [a.jobId, a.error ?? null])).toEqual([['100', null], [null, 'sbatch: error: Batch job submission failed: Invalid qos specification']])
    const resumed = await submitProject(project, options(slurm))
    expect(resumed.active.map((a) => a.jobId)).toEqual(['100_0', '100_1'])
    expect(resumed.submission?.arrays.map((a) => [a.name, a.runIds.length, a.dependencies])).toEqual([['transfer', 4, ['100_0', '100_1']]])
  })

  it('without Slurm commands it says so and writes no scripts', async () => {
    const project = await makeSweepProject()
    const missing = async (): Promise<{ code: number; stdout: string; stderr: string; missing: boolean }> => ({ code: 127, stdout: '', stderr: 'not found', missing: true })
    await expect(submitProject(project, { ...options(new FakeSlurm()), run: missing })).rejects.toThrow(/sbatch is not installed here/)
    expect(existsSync(join(project, 'slurm'))).toBe(false)
  })

  it('splits a phase longer than MaxArraySize into several arrays, all awaited by the transfers', async () => {
    const project = await makeSweepProject({}, [1, 2, 3, 4, 5])
    const slurm = new FakeSlurm()
    const result = await submitProject(project, { ...options(slurm), maxArraySize: 4 })
    expect(result.submission?.arrays.map((a) => [a.name, a.runIds.length, a.dependencies])).toEqual([
      ['base', 2, []],
      ['transfer', 4, ['100']],
      ['transfer-2', 4, ['100']],
      ['transfer-3', 2, ['100']]
    ])
  })
})
