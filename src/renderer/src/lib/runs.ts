/** How runs are named, ordered and described in lists, tables and legends. */
import type { RunRecord, RunStatus as StoredRunStatus } from '../../../shared/project'
import type { RunStatus as LiveRunStatus } from '../../../shared/contract'

export type AnyRunStatus = StoredRunStatus | LiveRunStatus

/** "base A", "AnB n=3 · A→B", or the run's own name. */
export function runLabel(run: Pick<RunRecord, 'kind' | 'variant' | 'n' | 'from' | 'to' | 'name' | 'id'> & { status?: AnyRunStatus }): string {
  // Its run.json could not be read: only the folder name is known.
  if (run.status === 'unreadable') return run.name ?? run.id
  if (run.kind === 'base') return `base ${run.to}`
  if (run.kind === 'transfer') return `${run.variant} n=${run.n} · ${run.from}→${run.to}`
  return run.name ?? run.id
}

/** Whether a run can be continued from its checkpoint or started again. */
export function isResumable(status: AnyRunStatus): boolean {
  return status === 'cancelled' || status === 'interrupted' || status === 'failed'
}

export function isActive(status: AnyRunStatus): boolean {
  return status === 'running' || status === 'cancelling'
}

/** Words for a status, as badges show it. */
export function statusText(status: AnyRunStatus): string {
  const words: Record<AnyRunStatus, string> = {
    planned: 'planned',
    running: 'running',
    cancelling: 'stopping…',
    done: 'done',
    cancelled: 'cancelled',
    failed: 'failed',
    interrupted: 'interrupted',
    unreadable: 'unreadable'
  }
  return words[status] ?? status
}

/** Bases first, then transfers by target, source, variant and n (the order of a sweep and of a figure). */
export function compareRuns(a: RunRecord, b: RunRecord): number {
  if (a.kind !== b.kind) return a.kind === 'base' ? -1 : 1
  return (
    a.to.localeCompare(b.to) ||
    (a.from ?? '').localeCompare(b.from ?? '') ||
    (a.variant ?? '').localeCompare(b.variant ?? '') ||
    (a.n ?? -1) - (b.n ?? -1) ||
    a.id.localeCompare(b.id)
  )
}
