import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { arraySpec, renderArrayScript, renderSubmitScript, shellQuote, type ArrayPlan, type ScriptContext } from '../../../src/engine/slurm/sbatch-script'
import { inheritSlurmOptions, SlurmOptionError, validateSlurmOptions } from '../../../src/engine/slurm/slurm-options'

const run = promisify(execFile)

function plan(dir: string, name: 'base' | 'transfer', runIds: string[], afterArrays: string[] = [], afterJobs: string[] = []): ArrayPlan {
  return { name, phase: name, jobName: `wb-p-${name}`, runIds, script: join(dir, `${name}.sbatch`), runList: join(dir, `${name}.runs`), logDir: join(dir, 'logs'), afterArrays, afterJobs }
}

const context = (dir: string, extra: Partial<ScriptContext> = {}): ScriptContext => ({
  projectDir: '/shared/proj',
  projectName: 'proj',
  submissionId: '001',
  options: { partition: 'gpu', time: '4:00:00', gpusPerTask: 1, cpusPerTask: 4, mem: '16G', maxParallel: 3, sbatchArgs: ['--account=lab', '--qos=short'] },
  launcher: { cwd: dir, argv: ['/usr/bin/node', '--import', 'tsx', '/opt/wb/src/cli/index.ts'] },
  ...extra
})

describe('array batch scripts', () => {
  it('asks for the array, throttle, logs and every resource option', () => {
    const script = renderArrayScript(plan('/shared/proj/slurm/001', 'base', ['r0', 'r1', 'r2', 'r3', 'r4']), context('/opt/wb'))
    const directives = script.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8))
    expect(directives).toEqual([
      '--job-name=wb-p-base',
      '--array=0-4%3',
      '--output=/shared/proj/slurm/001/logs/%x_%A_%a.out',
      '--open-mode=append',
      '--requeue',
      '--ntasks=1',
      '--partition=gpu',
      '--time=4:00:00',
      '--gpus-per-task=1',
      '--cpus-per-task=4',
      '--mem=16G',
      '--account=lab',
      '--qos=short'
    ])
    expect(script.split('\n')[0]).toBe('#!/bin/bash')
    expect(script).toContain('exec /usr/bin/node --import tsx /opt/wb/src/cli/index.ts run-one --project /shared/proj --run-list /shared/proj/slurm/001/base.runs\n')
    // sbatch reads #SBATCH lines only before the first command.
    const firstCommand = script.split('\n').findIndex((l) => l.trim() !== '' && !l.startsWith('#'))
    expect(script.split('\n').slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false)
  })

  it('throttles only when fewer may run than there are tasks', () => {
    expect(arraySpec(4, undefined)).toBe('0-3')
    expect(arraySpec(4, 4)).toBe('0-3')
    expect(arraySpec(4, 2)).toBe('0-3%2')
    expect(() => arraySpec(0, 1)).toThrow()
  })

  it('quotes only what needs quoting', () => {
    expect(shellQuote('/a/b-c_d.ts')).toBe('/a/b-c_d.ts')
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`)
  })

  it('runs by hand without Slurm: task i picks line i+1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-script-'))
    const base = plan(dir, 'base', ['r0', 'r1'])
    // A stand-in CLI that prints its arguments and the run it would pick.
    const fakeCli = join(dir, 'fake-cli.sh')
    await writeFile(fakeCli, '#!/bin/bash\nlist="${@: -1}"\necho "args: $*"\necho "run: $(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$list")"\necho "gpu growth: $TF_FORCE_GPU_ALLOW_GROWTH"\n')
    await chmod(fakeCli, 0o755)
    await writeFile(base.runList, 'r0\nr1\n')
    await writeFile(base.script, renderArrayScript(base, context(dir, { launcher: { cwd: dir, argv: [fakeCli] }, options: { taskSetup: ['echo setup ran'] } })))
    const { stdout } = await run('bash', [base.script], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '1' } })
    expect(stdout).toBe(`setup ran\nargs: run-one --project /shared/proj --run-list ${base.runList}\nrun: r1\ngpu growth: true\n`)
  })

  it('submit.sh submits the transfers after the base array, passing its job id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-submit-'))
    const arrays = [plan(dir, 'base', ['b0', 'b1']), plan(dir, 'transfer', ['t0'], ['base'], ['41_2'])]
    await writeFile(join(dir, 'submit.sh'), renderSubmitScript(arrays, { projectName: 'proj', submissionId: '001' }))
    // A fake sbatch that logs its arguments and answers like --parsable on a federated cluster.
    const bin = join(dir, 'bin')
    await mkdir(bin)
    await writeFile(join(bin, 'sbatch'), `#!/bin/bash\necho "$*" >> ${join(dir, 'sbatch.log')}\nn=$(wc -l < ${join(dir, 'sbatch.log')})\necho "$((500 + n));cluster"\n`)
    await chmod(join(bin, 'sbatch'), 0o755)
    const { stdout } = await run('bash', [join(dir, 'submit.sh')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })
    expect(stdout).toBe('base: job 501 (2 runs)\ntransfer: job 502 (1 runs)\n')
    expect(await readFile(join(dir, 'sbatch.log'), 'utf8')).toBe('--parsable base.sbatch\n--parsable --dependency=afterok:501:41_2 --kill-on-invalid-dep=yes transfer.sbatch\n')
  })
})

describe('Slurm options', () => {
  it('rejects what sbatch would, naming the flag', () => {
    expect(() => validateSlurmOptions({ time: 'two hours' })).toThrow(/--time/)
    expect(() => validateSlurmOptions({ mem: '16 GB' })).toThrow(/--mem/)
    expect(() => validateSlurmOptions({ maxParallel: 0 })).toThrow(/--max-parallel/)
    expect(() => validateSlurmOptions({ gpusPerTask: 1.5 })).toThrow(SlurmOptionError)
    expect(() => validateSlurmOptions({ sbatchArgs: ['--array=0-3'] })).toThrow(/set by the workbench/)
    expect(() => validateSlurmOptions({ sbatchArgs: ['account lab'] })).toThrow(/--sbatch-arg/)
    expect(validateSlurmOptions({ time: '1-12:00:00', mem: '4000M', sbatchArgs: ['--exclusive', '--constraint=a100'] })).toBeTruthy()
  })

  it('a resubmission inherits what it does not say', () => {
    expect(inheritSlurmOptions({ time: '1:00:00', sbatchArgs: [] }, { partition: 'gpu', time: '4:00:00', sbatchArgs: ['--qos=x'] })).toEqual({ partition: 'gpu', time: '1:00:00', sbatchArgs: ['--qos=x'] })
  })
})
