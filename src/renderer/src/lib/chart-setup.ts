/**
 * Chart.js with only what the workbench draws: line charts (curves, metrics; linear or log axes) and
 * bar charts (per-class accuracy). Registered once, on first use.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LogarithmicScale,
  LineElement,
  PointElement,
  Title,
  Tooltip,
  type Plugin
} from 'chart.js'

let registered = false

/** Registers the controllers, elements, scales and plugins the workbench uses. */
export function registerCharts(): typeof Chart {
  if (!registered) {
    Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, LogarithmicScale, CategoryScale, Legend, Tooltip, Title, Filler)
    registered = true
  }
  return Chart
}

/** Paints the canvas background before drawing, so an exported PNG is not transparent. */
export function backgroundPlugin(color: () => string): Plugin {
  return {
    id: 'workbenchBackground',
    beforeDraw(chart) {
      const { ctx, width, height } = chart
      ctx.save()
      ctx.globalCompositeOperation = 'destination-over'
      ctx.fillStyle = color()
      ctx.fillRect(0, 0, width, height)
      ctx.restore()
    }
  }
}

/** Series colours, readable on light and dark backgrounds. */
export const SERIES_COLORS = ['#3b7dd8', '#e0812f', '#2f9e6e', '#d64550', '#8a63d2', '#b08a1e', '#1fa3b8', '#c0579a', '#6b7a8f', '#5d9c2f']

/** One colour per transfer variant, the same in every chart. */
export const VARIANT_COLORS: Record<string, string> = {
  AnB: '#3b7dd8',
  BnB: '#e0812f',
  'AnB+': '#2f9e6e',
  'BnB+': '#d64550',
  baseline: '#7d8794'
}
