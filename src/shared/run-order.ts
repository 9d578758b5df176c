/**
 * The one order of a project's runs: the order a sweep trains them in, and the order the monitor's
 * queue and the results list show them in. Bases first (every transfer needs its base done), then
 * transfers by target, source, variant, n and seed (repeats of a cell side by side), then the id.
 */
import type { RunRecord } from './project'

type Ordered = Pick<RunRecord, 'kind' | 'to' | 'from' | 'variant' | 'n' | 'id'> & { config?: { seed?: number } }

/** Compares two runs in the project's run order (for `Array.prototype.sort`). */
export function compareRunOrder(a: Ordered, b: Ordered): number {
  if (a.kind !== b.kind) return a.kind === 'base' ? -1 : b.kind === 'base' ? 1 : a.kind.localeCompare(b.kind)
  return (
    (a.to ?? '').localeCompare(b.to ?? '') ||
    (a.from ?? '').localeCompare(b.from ?? '') ||
    (a.variant ?? '').localeCompare(b.variant ?? '') ||
    (a.n ?? -1) - (b.n ?? -1) ||
    (a.config?.seed ?? 0) - (b.config?.seed ?? 0) ||
    a.id.localeCompare(b.id)
  )
}
