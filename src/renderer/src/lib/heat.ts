/** Colours for heat maps: a perceptually even scale (viridis stops), and a readable text colour on each. */

const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 73, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [181, 222, 43],
  [253, 231, 37]
]

/** The scale's colour at t in 0…1 (clamped), as `rgb(r, g, b)`. */
export function heatColor(t: number): string {
  const [r, g, b] = heatRgb(t)
  return `rgb(${r}, ${g}, ${b})`
}

export function heatRgb(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1)
  const i = Math.min(STOPS.length - 2, Math.floor(x))
  const f = x - i
  const a = STOPS[i] as [number, number, number]
  const b = STOPS[i + 1] as [number, number, number]
  return [0, 1, 2].map((k) => Math.round((a[k] as number) + ((b[k] as number) - (a[k] as number)) * f)) as [number, number, number]
}

/** Black or white, whichever reads better on the scale's colour at t. */
export function heatTextColor(t: number): string {
  const [r, g, b] = heatRgb(t)
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 140 ? '#111111' : '#ffffff'
}

/** Where a value sits between min and max (0 when they are equal). */
export function normalize(value: number, min: number, max: number): number {
  return max > min ? (value - min) / (max - min) : 0
}
