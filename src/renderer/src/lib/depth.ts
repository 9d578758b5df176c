/**
 * Transfer depth n as the designer handles it: one n, or a range swept in steps; what each layer of
 * the network picture shows for it.
 */

/** What a weight layer is for the chosen depths: copied in every run, copied in some (a sweep), or re-initialized. */
export type LayerRole = 'copied' | 'partly' | 'reinit'

/** Layers 1…n are copied from the source, the rest start afresh; over depths lo…hi, layers between are copied in some runs. */
export function layerRole(index: number, lo: number, hi: number = lo): LayerRole {
  if (index <= lo) return 'copied'
  if (index <= hi) return 'partly'
  return 'reinit'
}

/** A range of depths to sweep: from, to (inclusive) and the step between. */
export interface DepthRange {
  from: number
  to: number
  step: number
}

/** The depths of a range, clamped to 0 … maxN, always including both ends. */
export function depthsOf(range: DepthRange, maxN: number): number[] {
  const lo = Math.max(0, Math.min(range.from, range.to, maxN))
  const hi = Math.min(maxN, Math.max(range.from, range.to))
  const step = Math.max(1, Math.floor(range.step) || 1)
  const out: number[] = []
  for (let n = lo; n <= hi; n += step) out.push(n)
  if (out[out.length - 1] !== hi) out.push(hi)
  return out
}

/**
 * The smallest range that gives a list of depths back, when one does (evenly spaced); null otherwise
 * (an experiment saved with, say, n = 1, 2, 7).
 */
export function rangeOf(depths: readonly number[]): DepthRange | null {
  const sorted = [...new Set(depths)].sort((a, b) => a - b)
  if (sorted.length === 0) return null
  const first = sorted[0] as number
  const last = sorted[sorted.length - 1] as number
  if (sorted.length === 1) return { from: first, to: first, step: 1 }
  const step = (sorted[1] as number) - first
  const range = { from: first, to: last, step }
  const again = depthsOf(range, last)
  return again.length === sorted.length && again.every((n, i) => n === sorted[i]) ? range : null
}

/**
 * Applies a click on layer `index` of the picture. In single mode it sets n; in sweep mode a plain
 * click sets the range's start, a shift-click its end (the order is sorted out).
 */
export function clickDepth(range: DepthRange, index: number, mode: 'single' | 'sweep', extend: boolean): DepthRange {
  if (mode === 'single') return { ...range, from: index, to: index }
  if (extend) return { ...range, from: Math.min(range.from, index), to: Math.max(range.from, index) }
  return { ...range, from: index, to: Math.max(index, range.to) }
}

/** A short text for a list of depths: "3", "1–7", "0, 2, 4, 6". */
export function formatDepths(depths: readonly number[]): string {
  const sorted = [...new Set(depths)].sort((a, b) => a - b)
  if (sorted.length === 0) return '—'
  const contiguous = sorted.every((n, i) => i === 0 || n === (sorted[i - 1] as number) + 1)
  if (contiguous && sorted.length > 2) return `${sorted[0]}–${sorted[sorted.length - 1]}`
  return sorted.join(', ')
}

/** The fields of a depth range the designer types into. */
export type RangeField = 'from' | 'to' | 'step'

const FIELD_WORD: Record<RangeField, string> = { from: 'from', to: 'to', step: 'every' }

/**
 * Reads what was typed into one field of a depth range: a whole number within bounds (n from 0 to
 * maxN; the step from 1 to maxN), or a message naming the field and the value. Nothing is clamped or
 * rounded: a value outside the bounds is refused, never silently replaced.
 */
export function parseRangeField(field: RangeField, text: string, maxN: number): { value: number } | { problem: string } {
  const word = FIELD_WORD[field]
  const trimmed = text.trim()
  if (trimmed === '') return { problem: `${word}: enter a whole number` }
  if (!/^[+-]?\d+$/.test(trimmed)) return { problem: `${word}: “${trimmed}” is not a whole number` }
  const value = Number(trimmed)
  const lo = field === 'step' ? 1 : 0
  const hi = Math.max(lo, maxN)
  if (value < lo || value > hi) {
    return { problem: field === 'step' ? `every: ${value} is outside 1–${hi} (the step between depths)` : `${word}: n = ${value} is outside 0–${hi}, the depths this network has` }
  }
  return { value }
}

/** A problem with the range as a whole (its start above its end), or null. */
export function checkRangeOrder(range: DepthRange): string | null {
  return range.from > range.to ? `from (${range.from}) is above to (${range.to}): the sweep runs from the smaller depth up` : null
}
