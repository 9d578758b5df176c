/** Number and time formatting for labels, tables and the status bar. */

/** "42 s", "3 min 20 s", "2 h 05 min"; "—" for unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  const h = Math.floor(s / 3600)
  if (h < 48) return `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
  return `${Math.round(h / 24)} days`
}

/** An accuracy (0–1) as a percentage with one decimal; "—" when there is none. */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : `${(value * 100).toFixed(digits)}%`
}

/** A loss or other figure with a few significant digits. */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(digits)
}

/** Bytes as "512 MB", "1.2 GB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

/** A width multiplier as a fraction: 1, ½, ¼, ⅛, 1/16. */
export function formatWidth(width: number): string {
  const named: Record<number, string> = { 1: '1', 0.5: '½', 0.25: '¼', 0.125: '⅛' }
  if (named[width]) return named[width] as string
  const inverse = 1 / width
  return Number.isInteger(inverse) ? `1/${inverse}` : String(width)
}

/** A local date and time, short. */
export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}
