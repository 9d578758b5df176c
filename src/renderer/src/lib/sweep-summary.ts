/**
 * The sweep panel's one status line and its one action, from the runs' own statuses — never the
 * engine's last sweep message alone, which says "all runs done" even when a run was cancelled.
 */
import type { SweepStatus } from '../../../shared/contract'
import { isActive, isResumable, type AnyRunStatus } from './runs'

export interface SweepSummary {
  /** E.g. "17 of 18 done · 1 cancelled". */
  text: string
  /** The badge: what the sweep as a whole is. */
  state: 'running' | 'done' | 'incomplete' | 'not started' | 'empty'
  /** The button: start, continue (some done), or nothing left to run. */
  action: 'start' | 'continue' | 'none'
  /** The button's words. */
  actionLabel: string
  done: number
  total: number
}

/** Counts in the order a reader wants them: what needs attention after what is done. */
const ORDER: AnyRunStatus[] = ['running', 'cancelling', 'queued', 'cancelled', 'interrupted', 'failed', 'unreadable', 'planned']
const WORDS: Partial<Record<AnyRunStatus, string>> = { cancelling: 'stopping', planned: 'not started' }

/** One truthful status of a project's runs and the action that fits it. */
export function summarizeSweep(statuses: readonly AnyRunStatus[], sweepState: SweepStatus['state']): SweepSummary {
  const counts = new Map<AnyRunStatus, number>()
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1)
  const total = statuses.length
  const done = counts.get('done') ?? 0
  const parts = [`${done} of ${total} done`, ...ORDER.flatMap((s) => (counts.get(s) ? [`${counts.get(s)} ${WORDS[s] ?? s}`] : []))]
  const running = sweepState === 'running' || statuses.some(isActive)
  const toRun = statuses.filter((s) => s === 'planned' || isResumable(s)).length
  const state: SweepSummary['state'] = total === 0 ? 'empty' : running ? 'running' : done === total ? 'done' : done === 0 && toRun === total ? 'not started' : 'incomplete'
  const action: SweepSummary['action'] = toRun === 0 ? 'none' : done > 0 || statuses.some((s) => s !== 'planned') ? 'continue' : 'start'
  const actionLabel = action === 'start' ? 'Start sweep' : action === 'continue' ? `Continue sweep (${toRun} to run)` : done === total && total > 0 ? 'All runs done' : 'Nothing to run'
  return { text: total === 0 ? 'no runs planned' : parts.join(' · '), state, action, actionLabel, done, total }
}
