import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import { clusterCli, slurmTaskLogs } from '../engine/slurm/helpers/cluster-cli'
import { NODE_NAME, slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../engine/slurm/helpers/slurm-cluster'
import { makeSweepProject } from '../engine/slurm/helpers/sweep-project'
import { ARTIFACTS, CHROMIUM, connectApi, type E2eSession, haveChromium, openWorkbench, type Served } from './harness'

// The run monitor following a sweep on a real single-node Slurm (started by the test, see
// slurm-cluster.ts): the tiny AnB/BnB sweep (2 bases, 4 transfers) submitted with
// `resume --executor slurm`, the app in Chromium against serve mode with that cluster's SLURM_CONF.
// The cluster panel shows the jobs queued and running with their ids, a running run's charts gain
// points as its task writes metrics.jsonl on the node, and all six end done on wbnode.
const SLURM_SKIP = slurmSkipReason()
const SKIP = !haveChromium ? `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)` : SLURM_SKIP
if (SKIP) console.warn(`skipped: ${SKIP}`)

let cluster: SlurmCluster | undefined
let session: E2eSession | undefined
let served: Served | undefined
let client: WorkbenchClient | undefined
let page: Page
let project = ''
const problems: string[] = []

/** Long enough (a few seconds of training per run) for the monitor's 3 s polls to see a run grow. */
const EPOCHS = 6
const CONFIG = { epochs: EPOCHS, trainPerClass: 300, batchSize: 32, logEveryBatches: 1 }

beforeAll(async () => {
  if (SKIP) return
  cluster = await startSlurmCluster()
  project = await makeSweepProject(CONFIG)
  session = await openWorkbench('wb-e2e-slurm-', problems, cluster.env)
  ;({ served, page } = session)
  client = connectApi(served)
}, 300_000)

afterAll(async () => {
  client?.close()
  await session?.stop()
  await cluster?.stop()
  if (project) await rm(project, { recursive: true, force: true })
}, 120_000)

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `slurm-${name}.png`), fullPage: true })



interface PanelRow {
  id: string
  state: string
  job: string
  node: string
}

/** What the page shows in one read: the cluster panel's rows and counts, the selected run's job and chart. */
interface Screen {
  rows: PanelRow[]
  /** The queue's rows: run id → the state its badge shows. */
  queue: Record<string, string>
  done: number
  selectedJob: string | null
  selectedState: string | null
  batchPoints: number
  epochPoints: number
}

async function readScreen(): Promise<Screen> {
  return page.evaluate(() => {
    const byId = (id: string): Element | null => document.querySelector(`[data-testid="${id}"]`)
    const rows = [...document.querySelectorAll('[data-testid^="cluster-row-"]')].map((el) => ({
      id: (el.getAttribute('data-testid') ?? '').replace('cluster-row-', ''),
      state: el.getAttribute('data-state') ?? '',
      job: el.getAttribute('data-job') ?? '',
      node: el.getAttribute('data-node') ?? ''
    }))
    const queue = Object.fromEntries(
      [...document.querySelectorAll('[data-testid^="queue-row-"]')].map((el) => [(el.getAttribute('data-testid') ?? '').replace('queue-row-', ''), el.getAttribute('data-status') ?? ''])
    )
    return {
      rows,
      queue,
      done: Number(byId('cluster-count-done')?.getAttribute('data-count') ?? -1),
      selectedJob: byId('detail-slurm')?.getAttribute('data-job') ?? null,
      selectedState: byId('detail-slurm')?.getAttribute('data-state') ?? null,
      batchPoints: Number(byId('chart-batch')?.getAttribute('data-points') ?? 0),
      epochPoints: Number(byId('chart-acc')?.getAttribute('data-points') ?? 0)
    }
  })
}

describe.skipIf(SKIP !== undefined)('the run monitor on a real Slurm cluster', () => {
  it('shows the sweep’s jobs queued and running with their ids, follows a running run’s metrics, and ends with all six done on the node', async () => {
    await page.goto(served?.url ?? '')
    await page.getByTestId('nav-home').waitFor()
    await client!.api.openProject({ dir: project })
    // Each tab keeps its own project (issue 18, item 12): the page, which had none, starts in the one opened last.
    await page.reload()
    await page.getByTestId('project-name').getByText('slurm-test').waitFor({ timeout: 60_000 })
    await page.getByTestId('nav-monitor').click()
    await page.getByTestId('sweep-panel').waitFor()
    // Never submitted: no cluster panel (the engine answers null and asks Slurm nothing).
    await page.waitForTimeout(1500)
    expect(await page.getByTestId('cluster-panel').count()).toBe(0)

    const submit = await clusterCli(cluster, ['resume', '--project', project, '--executor', 'slurm', '--cpus-per-task', '1', '--time', '10', '--json'])
    expect(submit.code, submit.stderr).toBe(0)
    const submission = (JSON.parse(submit.stdout) as { submission: { arrays: { phase: string; jobId: string; runIds: string[] }[] } }).submission
    expect(submission.arrays.map((a) => [a.phase, a.runIds.length])).toEqual([['base', 2], ['transfer', 4]])
    const jobOf = new Map(submission.arrays.flatMap((a) => a.runIds.map((id, task) => [id, `${a.jobId}_${task}`] as const)))

    // The monitor looks for a first submission every 10 s; then it asks every 3 s while jobs are active.
    await page.getByTestId('cluster-panel').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('cluster-panel').getAttribute('data-scheduler')).toBe('slurm')
    expect(await page.getByTestId('cluster-note').count()).toBe(0)

    const statesSeen = new Map<string, Set<string>>()
    /** Whether the queue listed the submitted runs with a job running (runs planned by the CLI, outside the app). */
    let queueFollowed = false
    let shotRunning = false
    let followed: { id: string; points: number } | undefined
    let grew: { id: string; from: number; to: number } | undefined
    const deadline = Date.now() + 400_000
    let screen = await readScreen()
    for (;;) {
      for (const row of screen.rows) {
        if (!statesSeen.has(row.id)) statesSeen.set(row.id, new Set())
        statesSeen.get(row.id)?.add(row.state)
        // Whatever its state, a submitted run shows its own job id.
        expect(row.job, `${row.id} in state ${row.state}`).toBe(jobOf.get(row.id))
        if (row.state === 'running') expect(row.node).toBe(NODE_NAME)
      }
      const running = screen.rows.filter((r) => r.state === 'running')
      if (running.some((r) => screen.queue[r.id] === 'running') && Object.keys(screen.queue).length === 6) queueFollowed = true
      if (running.length > 0 && !shotRunning) {
        shotRunning = true
        await shot('monitor-running')
      }
      // Follow a running run: once its chart has points, wait for more to arrive while it still runs.
      if (!grew) {
        const followedRow = followed ? screen.rows.find((r) => r.id === followed?.id) : undefined
        if (followed && followedRow?.state === 'running' && screen.selectedJob === jobOf.get(followed.id) && screen.selectedState === 'running') {
          if (followed.points === 0) followed.points = screen.batchPoints
          else if (screen.batchPoints > followed.points) grew = { id: followed.id, from: followed.points, to: screen.batchPoints }
        } else if (running[0] && running[0].id !== followed?.id) {
          followed = { id: running[0].id, points: 0 }
          await page.getByTestId(`cluster-row-${running[0].id}`).getByRole('button').click()
          await page.getByTestId('detail-slurm').waitFor()
        }
      }
      if (screen.done === 6) break
      const broken = screen.rows.filter((r) => ['failed', 'cancelled', 'interrupted'].includes(r.state))
      if (broken.length > 0) throw new Error(`runs did not finish: ${JSON.stringify(broken)}\n${await slurmTaskLogs(project)}`)
      if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(screen)}\n${await cluster?.logs()}\n${await slurmTaskLogs(project)}`)
      await page.waitForTimeout(250)
      screen = await readScreen()
    }
    await shot('monitor-done')

    // Jobs were seen waiting (the transfers wait for the bases) and running, each with its job id.
    const seen = [...statesSeen.values()]
    expect(seen.some((s) => s.has('queued')), JSON.stringify([...statesSeen])).toBe(true)
    expect(seen.some((s) => s.has('running')), JSON.stringify([...statesSeen])).toBe(true)
    expect(queueFollowed, 'the queue never listed the six runs with a job running').toBe(true)
    // The charts followed a running run's metrics.jsonl as its task wrote it on the node.
    expect(grew, `no running run's chart grew: ${JSON.stringify(followed)}`).toBeDefined()
    console.log(`run ${grew?.id}: batch chart grew from ${grew?.from} to ${grew?.to} points while running`)

    // All six done, each with its job and the node; the queue says the same, with the runs' results.
    expect(screen.rows).toHaveLength(6)
    for (const row of screen.rows) expect(row).toEqual({ id: row.id, state: 'done', job: jobOf.get(row.id), node: NODE_NAME })
    for (const id of jobOf.keys()) {
      const queueRow = page.getByTestId(`queue-row-${id}`)
      expect(await queueRow.getAttribute('data-status')).toBe('done')
      expect(await page.getByTestId(`queue-job-${id}`).textContent()).toContain(jobOf.get(id))
      // The project was read again when the run ended: its best accuracy is listed.
      await queueRow.getByText(/\d+\.\d%/).waitFor({ timeout: 10_000 })
    }
    // The followed run, now done: its charts hold every epoch.
    const last = await readScreen()
    expect(last.epochPoints).toBe(EPOCHS)
    expect(await page.getByTestId('detail-slurm-job').textContent()).toContain(NODE_NAME)
    expect(problems).toEqual([])
  }, 600_000)
})
