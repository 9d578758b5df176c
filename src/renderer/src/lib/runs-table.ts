/** The results table: rows from run records, filtering by variant, n and status, sorting by any column. */
import type { RunRecord } from '../../../shared/project'
import type { CsvColumn } from './csv'
import { runLabel, type AnyRunStatus } from './runs'

export interface RunRow {
  id: string
  label: string
  kind: RunRecord['kind']
  /** 'base' for base runs, else the variant. */
  variant: string
  from: string
  to: string
  n: number | null
  /** Repeats of a cell differ in this only. */
  seed: number
  status: AnyRunStatus
  epochs: number
  bestValAcc: number | null
  testAcc: number | null
  imagesPerSecond: number | null
  seconds: number
  backend: string
}

export type SortKey = Exclude<keyof RunRow, 'id'>

export interface RunFilter {
  /** Variants to show ('base' included); empty shows all. */
  variants: readonly string[]
  /** n to show, or null for any. */
  n: number | null
  /** Status to show, or null for any. */
  status: AnyRunStatus | null
  /** Words that must all appear in the label or id. */
  text: string
}

export const EMPTY_FILTER: RunFilter = { variants: [], n: null, status: null, text: '' }

/** One row per run, with the live status when known. */
export function toRows(runs: readonly RunRecord[], statusOf: (run: RunRecord) => AnyRunStatus = (r) => r.status): RunRow[] {
  return runs.map((r) => ({
    id: r.id,
    label: runLabel(r),
    kind: r.kind,
    variant: r.kind === 'base' ? 'base' : (r.variant ?? ''),
    from: r.from ?? '',
    to: r.to,
    n: r.n,
    seed: r.seed,
    status: statusOf(r),
    epochs: r.epochs,
    bestValAcc: r.bestValAcc,
    testAcc: r.testAcc,
    imagesPerSecond: r.imagesPerSecond,
    seconds: r.seconds,
    backend: r.backend ? `${r.backend}/${r.device ?? '?'}` : ''
  }))
}

export function filterRows(rows: readonly RunRow[], filter: RunFilter): RunRow[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean)
  return rows.filter(
    (r) =>
      (filter.variants.length === 0 || filter.variants.includes(r.variant)) &&
      (filter.n === null || r.n === filter.n) &&
      (filter.status === null || r.status === filter.status) &&
      words.every((w) => r.label.toLowerCase().includes(w) || r.id.toLowerCase().includes(w))
  )
}

/** Sorts by a column; empty values (null, '') always go last, whatever the direction. */
export function sortRows(rows: readonly RunRow[], key: SortKey, direction: 'asc' | 'desc'): RunRow[] {
  const sign = direction === 'asc' ? 1 : -1
  return [...rows].sort((a, b) => {
    const x = a[key]
    const y = b[key]
    const emptyX = x === null || x === ''
    const emptyY = y === null || y === ''
    if (emptyX || emptyY) return emptyX === emptyY ? 0 : emptyX ? 1 : -1
    if (typeof x === 'number' && typeof y === 'number') return sign * (x - y)
    return sign * String(x).localeCompare(String(y), undefined, { numeric: true })
  })
}

/** The table's columns as CSV. */
export const RUN_CSV_COLUMNS: CsvColumn<RunRow>[] = [
  { header: 'id', value: (r) => r.id },
  { header: 'kind', value: (r) => r.kind },
  { header: 'variant', value: (r) => (r.kind === 'base' ? '' : r.variant) },
  { header: 'from', value: (r) => r.from },
  { header: 'to', value: (r) => r.to },
  { header: 'n', value: (r) => r.n },
  { header: 'status', value: (r) => r.status },
  { header: 'epochs', value: (r) => r.epochs },
  { header: 'bestValAcc', value: (r) => r.bestValAcc },
  { header: 'testAcc', value: (r) => r.testAcc },
  { header: 'imagesPerSecond', value: (r) => (r.imagesPerSecond === null ? null : Math.round(r.imagesPerSecond * 10) / 10) },
  { header: 'seconds', value: (r) => Math.round(r.seconds * 10) / 10 },
  { header: 'backend', value: (r) => r.backend },
  { header: 'seed', value: (r) => r.seed }
]
