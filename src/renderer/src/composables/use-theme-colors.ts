import { computed, type ComputedRef } from 'vue'
import { useUiStore } from '../stores/ui-store'

/** Colours charts and canvases draw with, read from the theme's CSS variables. */
export interface ThemeColors {
  text: string
  muted: string
  grid: string
  panel: string
  accent: string
}

const FALLBACK: Record<'light' | 'dark', ThemeColors> = {
  light: { text: '#1d2430', muted: '#5b6675', grid: '#e3e7ee', panel: '#ffffff', accent: '#3b7dd8' },
  dark: { text: '#e6e9ef', muted: '#9aa4b2', grid: '#2e3542', panel: '#1b2029', accent: '#6aa2f0' }
}

/** The current theme's colours; recomputed when the theme changes. */
export function useThemeColors(): ComputedRef<ThemeColors> {
  const ui = useUiStore()
  return computed(() => {
    const fallback = FALLBACK[ui.theme]
    if (typeof document === 'undefined' || typeof getComputedStyle !== 'function') return fallback
    const style = getComputedStyle(document.documentElement)
    const read = (name: string, otherwise: string): string => style.getPropertyValue(name).trim() || otherwise
    return {
      text: read('--text', fallback.text),
      muted: read('--text-muted', fallback.muted),
      grid: read('--grid', fallback.grid),
      panel: read('--panel', fallback.panel),
      accent: read('--accent', fallback.accent)
    }
  })
}
