import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'

/** The app's main views, in the order of the sidebar. */
export type ViewName = 'home' | 'data' | 'design' | 'monitor' | 'results' | 'inside' | 'features'
export type Theme = 'light' | 'dark'

/** A message for the user: an engine error in words, or a short confirmation. */
export interface Notice {
  id: number
  kind: 'error' | 'info'
  text: string
}

const THEME_KEY = 'workbench.theme'
/** The view this tab or window shows, kept across a reload (sessionStorage: per tab, gone with it). */
const VIEW_KEY = 'workbench.view'
const VIEW_NAMES: readonly ViewName[] = ['home', 'data', 'design', 'monitor', 'results', 'inside', 'features']

function initialView(): ViewName {
  try {
    const saved = sessionStorage.getItem(VIEW_KEY)
    if (saved && (VIEW_NAMES as readonly string[]).includes(saved)) return saved as ViewName
  } catch {
    // no session storage (a locked-down profile): start at home
  }
  return 'home'
}

function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem(THEME_KEY)
    if (saved === 'light' || saved === 'dark') return saved
  } catch {
    // storage may be unavailable (a locked-down profile): fall through to the system setting
  }
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

/** Which view is shown, the theme, notices, and the selections views share (the run the monitor follows …). */
export const useUiStore = defineStore('ui', () => {
  const view = ref<ViewName>(initialView())
  const theme = ref<Theme>(initialTheme())
  const notices = shallowRef<Notice[]>([])
  /** The run the monitor shows; null follows whichever run is training. */
  const monitorRunId = ref<string | null>(null)
  /** The experiment the designer edits (null: a new one). */
  const designExperimentId = ref<string | null>(null)
  /** The dataset the data view shows. */
  const datasetId = ref('demo')
  /** Results: the run whose per-class figures are shown, and the runs whose curves are overlaid. */
  const resultsRunId = ref<string | null>(null)
  const compareRunIds = ref<string[]>([])
  let nextNotice = 1

  function applyTheme(): void {
    if (typeof document !== 'undefined') document.documentElement.dataset['theme'] = theme.value
  }
  applyTheme()

  function setTheme(next: Theme): void {
    theme.value = next
    applyTheme()
    try {
      localStorage.setItem(THEME_KEY, next)
    } catch {
      // not remembered, still applied
    }
  }

  function toggleTheme(): void {
    setTheme(theme.value === 'dark' ? 'light' : 'dark')
  }

  function show(next: ViewName): void {
    view.value = next
    try {
      sessionStorage.setItem(VIEW_KEY, next)
    } catch {
      // not remembered across a reload, still shown
    }
  }

  /** Shows a message; errors stay until dismissed, infos go after a few seconds. */
  function notify(kind: Notice['kind'], text: string): void {
    const notice = { id: nextNotice++, kind, text }
    notices.value = [...notices.value.slice(-4), notice]
    if (kind === 'info') setTimeout(() => dismiss(notice.id), 5000)
  }

  /** Shows an error from a request in words (ApiError messages already are). */
  function reportError(action: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error)
    notify('error', `${action}: ${message}`)
  }

  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id)
  }

  return { view, theme, notices, monitorRunId, designExperimentId, datasetId, resultsRunId, compareRunIds, setTheme, toggleTheme, show, notify, reportError, dismiss }
})
