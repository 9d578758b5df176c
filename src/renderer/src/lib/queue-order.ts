/**
 * The monitor's queue in the order runs train. The engine decides that order (src/engine/api/
 * run-manager.ts): the run training now, then the runs resumed while it trained (their queue
 * positions), then the sweep's next runs in the project's run order (src/shared/run-order.ts, which
 * the sweep itself follows). This lays the project's runs out the same way, finished runs first.
 */
import type { SweepStatus } from '../../../shared/contract'
import type { RunRecord } from '../../../shared/project'
import { compareRunOrder } from '../../../shared/run-order'
import { isActive, isResumable, type AnyRunStatus } from './runs'

/** Where a run stands in the queue. */
export type QueuePlace = 'finished' | 'now' | 'queued' | 'next' | 'held'

export interface QueueItem<R> {
  run: R
  place: QueuePlace
  /** 1-based place in the order of what trains after the run training now (null: not going to train). */
  order: number | null
}

export interface QueueState {
  statusOf: (run: RunRecord) => AnyRunStatus
  /** A queued run's place among the queued ones (the engine's queuePosition). */
  queuePositionOf: (runId: string) => number | null
  sweep: Pick<SweepStatus, 'state' | 'currentRunId'>
}

/**
 * The runs laid out as they train: finished (done, and stopped runs no sweep will take up), the
 * run training now, the queued runs, the sweep's next runs. Without a running sweep, "next" is what
 * Start / Continue sweep would run. During a sweep, runs it has passed that did not finish are
 * 'held' (they train again only when resumed).
 */
export function queueOrder<R extends RunRecord>(runs: readonly R[], state: QueueState): QueueItem<R>[] {
  const ordered = [...runs].sort(compareRunOrder)
  const sweeping = state.sweep.state === 'running'
  // The sweep walks the run order: runs before its current one it has already passed.
  const currentAt = sweeping && state.sweep.currentRunId ? ordered.findIndex((r) => r.id === state.sweep.currentRunId) : -1
  const places = ordered.map((run, i): QueueItem<R> => {
    const status = state.statusOf(run)
    if (isActive(status)) return { run, place: 'now', order: null }
    if (status === 'queued') return { run, place: 'queued', order: null }
    const runnable = status === 'planned' || isResumable(status)
    if (!runnable) return { run, place: 'finished', order: null }
    if (sweeping && i <= currentAt) return { run, place: 'held', order: null }
    return { run, place: 'next', order: null }
  })
  const rank: Record<QueuePlace, number> = { finished: 0, now: 1, queued: 2, next: 3, held: 4 }
  const byQueue = (a: QueueItem<R>, b: QueueItem<R>): number => (state.queuePositionOf(a.run.id) ?? Infinity) - (state.queuePositionOf(b.run.id) ?? Infinity)
  const laid = places
    .map((item, i) => ({ item, i }))
    .sort((a, b) => rank[a.item.place] - rank[b.item.place] || (a.item.place === 'queued' ? byQueue(a.item, b.item) : 0) || a.i - b.i)
    .map(({ item }) => item)
  let order = 0
  for (const item of laid) if (item.place === 'queued' || item.place === 'next') item.order = ++order
  return laid
}
