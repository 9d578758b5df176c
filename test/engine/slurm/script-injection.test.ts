/**
 * A hostile project name must not run anything through the generated Slurm scripts. The name
 * `"lab study\ntouch pwned\n# "` once ended a `#` comment line of both the batch script (run on the
 * compute node) and submit.sh (run on the submitting machine) and made `touch pwned` a command. Here
 * the scripts are run for real by bash, with a fake `sbatch` on PATH that runs the batch script as a
 * compute node would; nothing may appear.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { removeDir } from '../../helpers/dataset-fixtures'
import { PROJECT_FILE, readProject } from '../../../src/engine/project/project-store'
import { renderArrayScript, renderSubmitScript, sbatchArguments, type ArrayPlan, type ScriptContext } from '../../../src/engine/slurm/sbatch-script'
import type { SlurmRunner } from '../../../src/engine/slurm/slurm-commands'
import { submitProject } from '../../../src/engine/slurm/submit'
import { makeSweepProject } from './helpers/sweep-project'

const run = promisify(execFile)
const HOSTILE_NAME = 'lab study\ntouch pwned\n# '

/** A working folder for the scripts (their cwd), a bin folder with a fake sbatch, and the sbatch log. */
let work: string
let bin: string
let log: string

afterEach(() => removeDir(work))

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'wb-inject-'))
  bin = join(work, 'bin')
  log = join(work, 'sbatch.log')
  await mkdir(bin)
  // Logs its arguments; for a submission, runs the batch script as task 0 of a compute node would
  // (same working folder), then answers like --parsable.
  await writeFile(
    join(bin, 'sbatch'),
    `#!/bin/bash\necho "$*" >> ${log}\nif [ "$1" = "--version" ]; then echo "slurm 22.05.8"; exit 0; fi\nSLURM_ARRAY_TASK_ID=0 bash "\${@: -1}" > /dev/null 2>&1 || true\necho "4242;cluster"\n`
  )
  await chmod(join(bin, 'sbatch'), 0o755)
})

const env = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${bin}:${process.env.PATH}` })

/** Every `pwned` file under the folders a script could have run in. */
async function pwnedFiles(...folders: string[]): Promise<string[]> {
  const found: string[] = []
  for (const folder of folders) {
    for (const entry of await readdir(folder, { recursive: true }).catch(() => [] as string[])) if (String(entry).split('/').pop() === 'pwned') found.push(join(folder, String(entry)))
  }
  return found
}

function plan(dir: string, name: 'base' | 'transfer', runIds: string[], afterArrays: string[] = [], afterJobs: string[] = []): ArrayPlan {
  return { name, phase: name, jobName: `wb-lab_study-${name}`, runIds, script: join(dir, `${name}.sbatch`), runList: join(dir, `${name}.runs`), logDir: join(dir, 'logs'), afterArrays, afterJobs }
}

describe('generated Slurm scripts and a hostile project name', () => {
  it('the batch script and submit.sh, run by bash with a fake sbatch, run nothing from the name', async () => {
    const folder = join(work, 'slurm', '001')
    await mkdir(folder, { recursive: true })
    const context: ScriptContext = { projectDir: join(work, 'project\nwith newline'), projectName: HOSTILE_NAME, submissionId: '001', options: {}, launcher: { cwd: work, argv: ['true'] } }
    const arrays = [plan(folder, 'base', ['r0']), plan(folder, 'transfer', ['r1'], ['base'], ['41_2'])]
    for (const array of arrays) {
      await writeFile(array.runList, `${array.runIds.join('\n')}\n`)
      await writeFile(array.script, renderArrayScript(array, context))
    }
    await writeFile(join(folder, 'submit.sh'), renderSubmitScript(arrays, context))

    // The name is there for a human to read, escaped, inside a comment.
    const script = await readFile(arrays[0]!.script, 'utf8')
    expect(script).toContain('# Transfer Workbench: base runs of project "lab study\\ntouch pwned\\n# ", submission "001".')
    expect(script.split('\n').filter((l) => l.includes('touch pwned')).every((l) => l.startsWith('#'))).toBe(true)

    // The compute node's view: task 0 of the batch script, by hand.
    await run('bash', [arrays[0]!.script], { cwd: work, env: { ...env(), SLURM_ARRAY_TASK_ID: '0' } })
    // The submitting machine's view: submit.sh, whose fake sbatch also runs each batch script.
    const submitted = await run('bash', [join(folder, 'submit.sh')], { cwd: work, env: env() })
    expect(submitted.stdout).toBe('base: job 4242 (1 runs)\ntransfer: job 4242 (1 runs)\n')
    expect(await readFile(log, 'utf8')).toBe('--parsable base.sbatch\n--parsable --dependency=afterok:4242:41_2 --kill-on-invalid-dep=yes transfer.sbatch\n')
    expect(await pwnedFiles(work)).toEqual([])
  })

  it('a job id that is not one never reaches a script (a damaged or forged submission record)', () => {
    const folder = join(work, 'slurm', '002')
    const forged = plan(folder, 'transfer', ['r1'], [], ['41_2$(touch pwned)'])
    expect(() => renderSubmitScript([forged], { projectName: 'p', submissionId: '002' })).toThrow(/'41_2\$\(touch pwned\)' is not a Slurm job id/)
    expect(() => sbatchArguments('transfer.sbatch', ['1;touch pwned'])).toThrow(/not a Slurm job id/)
  })

  it('an sbatch option holding a line break is refused, not written as a #SBATCH line', () => {
    const folder = join(work, 'slurm', '003')
    const context: ScriptContext = { projectDir: '/shared/p', projectName: 'p', submissionId: '003', options: { sbatchArgs: ['--comment=x\ntouch pwned'] }, launcher: { cwd: work, argv: ['true'] } }
    expect(() => renderArrayScript(plan(folder, 'base', ['r0']), context)).toThrow(/--comment=x\\ntouch pwned: an sbatch option cannot hold spaces or control characters/)
  })

  it('submitting a project whose project.json carries the name is refused naming the field; nothing is written or run', async () => {
    const project = await makeSweepProject()
    const manifest = await readProject(project)
    await writeFile(join(project, PROJECT_FILE), JSON.stringify({ ...manifest, name: HOSTILE_NAME }, null, 2))
    // The real runner's way of calling sbatch (by name, on PATH), in the working folder.
    const runner: SlurmRunner = (command, args) =>
      run(command, args, { cwd: work, env: env() }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: e.stderr ?? '', missing: e.code === undefined })
      )
    const error = await submitProject(project, { slurm: {}, launcher: { cwd: work, argv: ['true'] }, run: runner }).then(
      () => undefined,
      (e: Error) => e
    )
    expect(error?.message).toMatch(/project\.json: name "lab study\\ntouch pwned\\n# " holds a line break/)
    expect(existsSync(join(project, 'slurm'))).toBe(false)
    expect(await readFile(log, 'utf8')).toBe('--version\n')
    expect(await pwnedFiles(work, project)).toEqual([])
  })
})
