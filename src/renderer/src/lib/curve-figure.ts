/**
 * The transfer curve as a figure: layers of lines, ± std bands and repeat dots, described once and
 * drawn twice — by Chart.js on screen (and its PNG) and by {@link figureSvg} as a standalone SVG file
 * for papers. Pure.
 */
import type { ChartData, ChartDataset } from 'chart.js'
import { VARIANT_COLORS, SERIES_COLORS } from './chart-setup'
import type { CurveModel } from './transfer-curve'

type Point = { x: number; y: number }

/** One thing drawn: a mean line, the band between mean − std and mean + std, or every repeat as a dot. */
export type FigureLayer =
  | { kind: 'line'; label: string; color: string; points: Point[]; dashed?: boolean }
  | { kind: 'band'; label: string; color: string; lower: Point[]; upper: Point[] }
  | { kind: 'dots'; label: string; color: string; points: Point[] }

export interface Figure {
  title: string
  xLabel: string
  yLabel: string
  x: { min: number; max: number }
  y: { min: number; max: number }
  layers: FigureLayer[]
}

const colorOf = (variant: string): string => VARIANT_COLORS[variant] ?? (SERIES_COLORS[0] as string)

/**
 * The curve's layers: per variant its band (where a cell has a std), its repeats as dots and the mean
 * as a line; the baseline as a dashed mean across every n with its own band.
 */
export function curveFigure(model: CurveModel, options: { title: string; xLabel: string; yLabel: string; maxN: number; y: { min: number; max: number } }): Figure {
  const layers: FigureLayer[] = []
  if (model.baseline) {
    const { mean, std } = model.baseline
    const color = VARIANT_COLORS['baseline'] as string
    const span = (y: number): Point[] => [{ x: 0, y }, { x: options.maxN, y }]
    if (std !== null) layers.push({ kind: 'band', label: `base ${model.to} ± std`, color, lower: span(mean - std), upper: span(mean + std) })
    layers.push({ kind: 'line', label: `base ${model.to} (baseline)`, color, points: span(mean), dashed: true })
  }
  for (const s of model.series) {
    const color = colorOf(s.variant)
    const spread = s.cells.filter((c) => c.std !== null)
    if (spread.length > 0) {
      layers.push({
        kind: 'band',
        label: `${s.variant} ± std`,
        color,
        lower: spread.map((c) => ({ x: c.n, y: c.mean - (c.std as number) })),
        upper: spread.map((c) => ({ x: c.n, y: c.mean + (c.std as number) }))
      })
    }
    layers.push({ kind: 'dots', label: `${s.variant} repeats`, color, points: s.cells.flatMap((c) => c.repeats.map((r) => ({ x: c.n, y: r.y }))) })
    layers.push({ kind: 'line', label: s.cells.some((c) => c.count > 1) ? `${s.variant} mean` : s.variant, color, points: s.cells.map((c) => ({ x: c.n, y: c.mean })) })
  }
  return { title: options.title, xLabel: options.xLabel, yLabel: options.yLabel, x: { min: 0, max: options.maxN }, y: options.y, layers }
}

/** `#rrggbb` with an alpha, for band fills. */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex)
  if (!m) return hex
  const v = parseInt(m[1] as string, 16)
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`
}

/** Whether a layer or dataset label goes in the legend: bands (and a band's lower edge) explain themselves next to their line. */
export function isLegendLayer(label: string): boolean {
  return !label.endsWith('± std') && !label.endsWith('± std (lower)')
}

/** Chart.js datasets: a band is two lines, the upper filled down to the lower ('-1'). */
export function figureChartData(figure: Figure): ChartData<'line', Point[]> {
  const datasets: ChartDataset<'line', Point[]>[] = []
  for (const layer of figure.layers) {
    if (layer.kind === 'band') {
      const edge = { borderWidth: 0, pointRadius: 0, pointHoverRadius: 0, backgroundColor: withAlpha(layer.color, 0.16), borderColor: 'transparent', tension: 0 }
      datasets.push({ label: `${layer.label} (lower)`, data: layer.lower, fill: false, ...edge })
      datasets.push({ label: layer.label, data: layer.upper, fill: '-1', ...edge })
    } else if (layer.kind === 'dots') {
      datasets.push({ label: layer.label, data: layer.points, showLine: false, pointRadius: 3, pointHoverRadius: 5, pointStyle: 'circle', borderColor: layer.color, backgroundColor: withAlpha(layer.color, 0.45), borderWidth: 1 })
    } else {
      datasets.push({
        label: layer.label,
        data: layer.points,
        borderColor: layer.color,
        backgroundColor: layer.color,
        borderWidth: layer.dashed ? 1.5 : 2.5,
        borderDash: layer.dashed ? [6, 4] : [],
        pointRadius: layer.dashed ? 0 : 4.5,
        // The legend draws each dataset's point style: a diamond for a mean, a dash for the baseline.
        pointStyle: layer.dashed ? 'line' : 'rectRot',
        tension: 0
      })
    }
  }
  return { datasets }
}

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const fmt = (v: number): string => String(Math.round(v * 100) / 100)

/** Round tick values from min to max, about `count` of them. */
export function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min
  if (!(span > 0)) return [min]
  const raw = span / Math.max(1, count)
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw) as number
  const ticks: number[] = []
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + 1e-9; v += step) ticks.push(Math.round(v * 1e9) / 1e9)
  return ticks
}

/** Colours of the drawing (the theme's, or a paper's black on white). */
export interface SvgColors {
  background: string
  text: string
  muted: string
  grid: string
}

/**
 * The figure as a standalone SVG document: title, axis labels and ticks, grid, bands, lines, dots and
 * a legend; y ticks as percentages. Sized in CSS pixels.
 */
export function figureSvg(figure: Figure, colors: SvgColors, size: { width: number; height: number } = { width: 720, height: 440 }): string {
  const { width, height } = size
  const legend = figure.layers.filter((l) => isLegendLayer(l.label))
  const pad = { left: 64, right: 16, top: 40 + 18 * Math.ceil(legend.length / 4), bottom: 48 }
  const plotW = width - pad.left - pad.right
  const plotH = height - pad.top - pad.bottom
  // A quarter step of room at both ends, so the dots at the first and last n are not cut in half.
  const x0 = figure.x.min - 0.25
  const x1 = figure.x.max + 0.25
  const sx = (x: number): number => pad.left + ((x - x0) / (x1 - x0)) * plotW
  const sy = (y: number): number => pad.top + (1 - (y - figure.y.min) / (figure.y.max - figure.y.min || 1)) * plotH
  const path = (points: Point[]): string => points.map((p) => `${fmt(sx(p.x))},${fmt(sy(p.y))}`).join(' ')
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`)
  out.push(`<title>${esc(figure.title)}</title>`)
  out.push(`<rect width="${width}" height="${height}" fill="${colors.background}"/>`)
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" fill="${colors.text}">${esc(figure.title)}</text>`)
  // Legend rows under the title, four entries a row.
  legend.forEach((layer, i) => {
    const x = pad.left + (i % 4) * (plotW / 4)
    const y = 40 + 18 * Math.floor(i / 4)
    const mark =
      layer.kind === 'dots'
        ? `<circle cx="${x + 9}" cy="${y - 4}" r="3" fill="${withAlpha(layer.color, 0.45)}" stroke="${layer.color}"/>`
        : `<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="${layer.color}" stroke-width="2"${layer.kind === 'line' && layer.dashed ? ' stroke-dasharray="6 4"' : ''}/>`
    out.push(`<g class="legend">${mark}<text x="${x + 24}" y="${y}" font-size="11" fill="${colors.text}">${esc(layer.label)}</text></g>`)
  })
  // Grid and ticks.
  out.push(`<g class="axes" font-size="11" fill="${colors.muted}">`)
  for (const t of niceTicks(figure.y.min, figure.y.max, 6)) {
    out.push(`<line x1="${pad.left}" x2="${pad.left + plotW}" y1="${fmt(sy(t))}" y2="${fmt(sy(t))}" stroke="${colors.grid}"/>`)
    out.push(`<text x="${pad.left - 6}" y="${fmt(sy(t) + 4)}" text-anchor="end">${Math.round(t * 1000) / 10}%</text>`)
  }
  for (let n = Math.ceil(figure.x.min); n <= figure.x.max; n++) {
    out.push(`<line x1="${fmt(sx(n))}" x2="${fmt(sx(n))}" y1="${pad.top}" y2="${pad.top + plotH}" stroke="${colors.grid}"/>`)
    out.push(`<text x="${fmt(sx(n))}" y="${pad.top + plotH + 16}" text-anchor="middle">${n}</text>`)
  }
  out.push(`<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="none" stroke="${colors.muted}"/>`)
  out.push(`<text x="${pad.left + plotW / 2}" y="${height - 10}" text-anchor="middle" font-size="12" fill="${colors.text}">${esc(figure.xLabel)}</text>`)
  out.push(`<text transform="translate(16 ${pad.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="${colors.text}">${esc(figure.yLabel)}</text>`)
  out.push('</g>')
  // Data, clipped to the plot area.
  out.push(`<clipPath id="plot"><rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}"/></clipPath>`)
  out.push('<g clip-path="url(#plot)">')
  for (const layer of figure.layers) {
    const data = `data-series="${esc(layer.label)}"`
    if (layer.kind === 'band') out.push(`<polygon class="band" ${data} points="${path([...layer.upper, ...[...layer.lower].reverse()])}" fill="${withAlpha(layer.color, 0.16)}" stroke="none"/>`)
    else if (layer.kind === 'dots') for (const p of layer.points) out.push(`<circle class="repeat" ${data} cx="${fmt(sx(p.x))}" cy="${fmt(sy(p.y))}" r="3" fill="${withAlpha(layer.color, 0.45)}" stroke="${layer.color}"/>`)
    else {
      out.push(`<polyline class="mean" ${data} points="${path(layer.points)}" fill="none" stroke="${layer.color}" stroke-width="${layer.dashed ? 1.5 : 2.5}"${layer.dashed ? ' stroke-dasharray="6 4"' : ''}/>`)
      if (!layer.dashed) for (const p of layer.points) out.push(`<rect class="mean-point" ${data} x="${fmt(sx(p.x) - 3.5)}" y="${fmt(sy(p.y) - 3.5)}" width="7" height="7" fill="${layer.color}" transform="rotate(45 ${fmt(sx(p.x))} ${fmt(sy(p.y))})"/>`)
    }
  }
  out.push('</g>')
  out.push('</svg>')
  return out.join('\n') + '\n'
}
