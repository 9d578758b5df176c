// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ProjectStatus, RunStatusRow, SweepRunState } from '../../src/shared/cluster-status'
import type { ProjectView } from '../../src/shared/contract'

// The cluster store's rhythm against a scripted engine: when it asks, when it reads the project and a
// run's metrics again, and when it stops asking. (The real engine and Slurm: test/e2e/slurm-monitor.test.ts.)
let answer: ProjectStatus | null = null
const api = {
  getClusterStatus: vi.fn(async () => answer),
  getProject: vi.fn(async () => null),
  getRecentProjects: vi.fn(async () => []),
  getRunMetrics: vi.fn(async () => [])
}
vi.mock('../../src/renderer/src/api', () => ({ useWorkbench: () => ({ api, on: () => () => undefined }) }))

const { useProjectStore } = await import('../../src/renderer/src/stores/project-store')
const { useClusterStore, ACTIVE_POLL_MS, IDLE_POLL_MS, QUIET_AFTER_MS } = await import('../../src/renderer/src/stores/cluster-store')

const row = (id: string, state: SweepRunState, progress = 0): RunStatusRow => ({
  id,
  label: id,
  kind: 'base',
  state,
  detail: null,
  runStatus: state === 'done' ? 'done' : state === 'running' ? 'running' : 'planned',
  epochs: 0,
  totalEpochs: 4,
  progress,
  bestValAcc: null,
  jobId: `7_${id}`,
  jobState: state.toUpperCase(),
  exitCode: null,
  node: 'n1',
  submissionId: '001'
})
function status(rows: RunStatusRow[]): ProjectStatus {
  const counts = { planned: 0, queued: 0, running: 0, done: 0, failed: 0, interrupted: 0, cancelled: 0, unreadable: 0 }
  for (const r of rows) counts[r.state]++
  return { projectDir: '/p', rows, counts, schedulerAvailable: true }
}
const project = { dir: '/p', manifest: { experiments: [] }, runs: [{ id: 'a', kind: 'base', to: 'A' }, { id: 'b', kind: 'base', to: 'B' }] } as unknown as ProjectView

beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
  for (const fn of Object.values(api)) fn.mockClear()
  answer = null
  useProjectStore().project = project
})
afterEach(() => {
  vi.useRealTimers()
})

describe('the cluster store', () => {
  it('looks for a first submission slowly, then asks every few seconds while jobs are active', async () => {
    const cluster = useClusterStore()
    const stop = cluster.watchCluster()
    await vi.advanceTimersByTimeAsync(0)
    expect(api.getClusterStatus).toHaveBeenCalledTimes(1)
    expect(cluster.status).toBeNull()
    await vi.advanceTimersByTimeAsync(ACTIVE_POLL_MS)
    expect(api.getClusterStatus).toHaveBeenCalledTimes(1)

    answer = status([row('a', 'running', 0.25), row('b', 'queued')])
    await vi.advanceTimersByTimeAsync(IDLE_POLL_MS - ACTIVE_POLL_MS)
    expect(api.getClusterStatus).toHaveBeenCalledTimes(2)
    expect(cluster.active).toBe(true)
    await vi.advanceTimersByTimeAsync(ACTIVE_POLL_MS)
    expect(api.getClusterStatus).toHaveBeenCalledTimes(3)

    // Leaving the monitor stops the asking.
    stop()
    await vi.advanceTimersByTimeAsync(IDLE_POLL_MS * 3)
    expect(api.getClusterStatus).toHaveBeenCalledTimes(3)
    expect(cluster.polling).toBe(false)
  })

  it('reads the project again when a run changes state, and the followed run’s metrics when its file grew', async () => {
    const cluster = useClusterStore()
    answer = status([row('a', 'running', 0.25), row('b', 'queued')])
    cluster.followRunId = 'a'
    cluster.watchCluster()
    await vi.advanceTimersByTimeAsync(0)
    expect(api.getRunMetrics).toHaveBeenCalledTimes(1)
    expect(api.getProject).not.toHaveBeenCalled()

    // Same progress: nothing read again.
    await vi.advanceTimersByTimeAsync(ACTIVE_POLL_MS)
    expect(api.getRunMetrics).toHaveBeenCalledTimes(1)

    answer = status([row('a', 'running', 0.5), row('b', 'queued')])
    await vi.advanceTimersByTimeAsync(ACTIVE_POLL_MS)
    expect(api.getRunMetrics).toHaveBeenCalledTimes(2)
    expect(api.getRunMetrics).toHaveBeenLastCalledWith({ runId: 'a' })
    expect(api.getProject).not.toHaveBeenCalled()

    answer = status([row('a', 'done', 1), row('b', 'running', 0.1)])
    await vi.advanceTimersByTimeAsync(ACTIVE_POLL_MS)
    expect(api.getProject).toHaveBeenCalledTimes(1)
    // The followed run ended: its whole file once more.
    expect(api.getRunMetrics).toHaveBeenCalledTimes(3)
  })

  it('reads the project when runs it does not list appear (planned by a submission from a terminal)', async () => {
    const cluster = useClusterStore()
    answer = status([row('a', 'queued'), row('b', 'queued'), row('c', 'queued')])
    cluster.watchCluster()
    await vi.advanceTimersByTimeAsync(0)
    expect(api.getProject).toHaveBeenCalledTimes(1)
  })

  it('stops asking a while after the last job ended; Refresh asks again', async () => {
    const cluster = useClusterStore()
    answer = status([row('a', 'done', 1), row('b', 'done', 1)])
    cluster.watchCluster()
    await vi.advanceTimersByTimeAsync(QUIET_AFTER_MS + ACTIVE_POLL_MS * 2)
    const asked = api.getClusterStatus.mock.calls.length
    expect(asked).toBeGreaterThan(1)
    expect(cluster.polling).toBe(false)
    await vi.advanceTimersByTimeAsync(QUIET_AFTER_MS * 4)
    expect(api.getClusterStatus).toHaveBeenCalledTimes(asked)

    await cluster.refresh(true)
    expect(api.getClusterStatus).toHaveBeenCalledTimes(asked + 1)
    expect(cluster.polling).toBe(true)
  })
})
