/**
 * A throw-away single-node Slurm cluster for tests: its own munge key and socket, its own slurm.conf,
 * state and spool folders and ports, all in a temp folder, so it touches nothing of the machine's
 * (no /etc/slurm, no /run/munge). Needs Debian's `slurmctld slurmd slurm-client munge` and root
 * (SlurmUser=root). Clients reach it through SLURM_CONF in `cluster.env`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, constants, existsSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'

const DAEMONS = ['munged', 'slurmctld', 'slurmd'] as const
const CLIENTS = ['sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'] as const
export const NODE_NAME = 'wbnode'

function which(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin']) {
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here
    }
  }
  return undefined
}

/** Why a real cluster cannot be started here (missing binaries, not root), or undefined when it can. */
export function slurmSkipReason(): string | undefined {
  const missing = [...DAEMONS, ...CLIENTS].filter((name) => !which(name))
  if (missing.length > 0) return `Slurm binaries missing (${missing.join(', ')}): apt-get install slurmctld slurmd slurm-client munge to run these tests`
  if (process.getuid?.() !== 0) return 'the test cluster runs its daemons as root (SlurmUser=root); not root here'
  return undefined
}

/** A running test cluster. */
export interface SlurmCluster {
  dir: string
  conf: string
  /** Environment for client commands and the CLI: SLURM_CONF points at this cluster. */
  env: Record<string, string>
  /** Runs a client command against the cluster. */
  command(name: string, args: string[]): { code: number; stdout: string; stderr: string }
  /** The daemons' logs, for failure messages. */
  logs(): Promise<string>
  /** Cancels every job, stops the daemons and any job process left, removes the folder. */
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function slurmConf(dir: string, ports: [number, number], cpus: number): string {
  return `# Test cluster written by test/engine/slurm/helpers/slurm-cluster.ts
ClusterName=wbtest
SlurmctldHost=localhost
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${dir}/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
# No cgroups in a container: track processes by parentage, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
# No slurmdbd: finished jobs are read from the controller, so keep them there.
MinJobAge=86400
KillWait=5
# A job whose dependency failed is cancelled instead of pending forever.
DependencyParameters=kill_invalid_depend
NodeName=${NODE_NAME} NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=${cpus} RealMemory=1024 State=UNKNOWN
PartitionName=debug Nodes=${NODE_NAME} Default=YES MaxTime=INFINITE State=UP
`
}

/** Pids of processes started for this cluster that outlived the daemons (job steps, tasks). */
function processesOf(conf: string): number[] {
  const mark = `SLURM_CONF=${conf}`
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(mark)) out.push(Number(entry))
    } catch {
      // gone already, or not ours to read
    }
  }
  return out
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/**
 * Starts munged, slurmctld and slurmd on a fresh configuration and waits (at most 30 s) for the node
 * to be idle. On failure everything started is stopped and the error carries the daemons' logs.
 */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'wb-slurm-cluster-'))
  // munged insists that everyone may traverse the folders on the way to its socket, and no more.
  await chmod(dir, 0o711)
  await mkdir(join(dir, 'munge'), { mode: 0o755 })
  await Promise.all(['state', 'spool', 'log'].map((d) => mkdir(join(dir, d))))
  await writeFile(join(dir, 'munge.key'), randomBytes(1024), { mode: 0o400 })
  const conf = join(dir, 'slurm.conf')
  await writeFile(conf, slurmConf(dir, [await freePort(), await freePort()], Math.min(2, availableParallelism())))
  const env: Record<string, string> = { ...(process.env as Record<string, string>), SLURM_CONF: conf }
  const children: ChildProcess[] = []
  const start = (name: string, args: string[]): void => {
    const log = openSync(join(dir, 'log', `${name}.out`), 'a')
    children.push(spawn(which(name) as string, args, { env, stdio: ['ignore', log, log] }))
  }
  // If the test process dies without stop(), do not leave daemons behind.
  const onExit = (): void => {
    for (const child of children) child.kill('SIGKILL')
  }
  process.once('exit', onExit)

  const command = (name: string, args: string[]): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync(which(name) as string, args, { env, encoding: 'utf8', timeout: 30_000 })
    return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
  }
  const logs = async (): Promise<string> => {
    const files = [...readdirSync(join(dir, 'log'))]
    const parts = await Promise.all(files.map(async (f) => `--- ${f}\n${(await readFile(join(dir, 'log', f), 'utf8').catch(() => '')).split('\n').slice(-30).join('\n')}`))
    return parts.join('\n')
  }
  const stop = async (): Promise<void> => {
    const ids = command('squeue', ['--noheader', '--format=%A']).stdout.split('\n').filter(Boolean)
    if (ids.length > 0) command('scancel', [...new Set(ids)])
    for (let i = 0; i < 40 && command('squeue', ['--noheader', '--states=RUNNING,COMPLETING', '--format=%A']).stdout.trim() !== ''; i++) await sleep(250)
    for (const child of [...children].reverse()) await stopProcess(child)
    for (const pid of processesOf(conf)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    process.off('exit', onExit)
    await rm(dir, { recursive: true, force: true })
  }

  try {
    start('munged', ['--foreground', `--socket=${dir}/munge/munge.socket`, `--key-file=${dir}/munge.key`, `--log-file=${dir}/log/munged.log`, `--pid-file=${dir}/munged.pid`, `--seed-file=${dir}/munged.seed`])
    for (let i = 0; i < 50 && !existsSync(join(dir, 'munge', 'munge.socket')); i++) await sleep(100)
    start('slurmctld', ['-D', '-f', conf])
    start('slurmd', ['-D', '-f', conf, '-N', NODE_NAME])
    const deadline = Date.now() + 30_000
    for (;;) {
      const up = command('scontrol', ['ping']).stdout.includes('UP')
      const state = command('sinfo', ['--noheader', `--nodes=${NODE_NAME}`, '--format=%t']).stdout.trim()
      if (up && state === 'idle') break
      if (Date.now() > deadline) throw new Error(`the test cluster did not come up in 30 s (controller ${up ? 'up' : 'down'}, node '${state}')`)
      await sleep(250)
    }
  } catch (error) {
    const text = await logs()
    await stop()
    throw new Error(`${(error as Error).message}\n${text}`)
  }
  return { dir, conf, env: { SLURM_CONF: conf }, command, logs, stop }
}
