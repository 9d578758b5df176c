import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { ProjectView, RecentProject } from '../../../shared/contract'
import type { Experiment, RunRecord } from '../../../shared/project'
import { useWorkbench } from '../api'
import { useWorkbenchEvent } from '../composables/use-workbench-event'
import { demoExperiment } from '../lib/demo-project'
import { compareRunOrder } from '../../../shared/run-order'
import { useUiStore } from './ui-store'

/**
 * The project this tab or window has open, kept in sessionStorage: per tab, kept across a reload,
 * gone with the tab. The engine gives each tab a session of its own; after a reload the tab asks for
 * its project again, so a reload never lands in a project another tab opened meanwhile.
 */
const PROJECT_KEY = 'workbench.projectDir'

function rememberedDir(): string | null {
  try {
    return sessionStorage.getItem(PROJECT_KEY)
  } catch {
    return null
  }
}

function rememberDir(dir: string | null): void {
  try {
    if (dir) sessionStorage.setItem(PROJECT_KEY, dir)
    else sessionStorage.removeItem(PROJECT_KEY)
  } catch {
    // not remembered: a reload starts in the project opened last
  }
}

/** The experiment saved last (project.json keeps them in the order saved), or null when there is none. */
function latestExperimentId(view: ProjectView): string | null {
  return view.manifest.experiments.at(-1)?.id ?? null
}

/** The open project (its manifest and runs, as the engine reads them from disk) and the recent list. */
export const useProjectStore = defineStore('project', () => {
  const workbench = useWorkbench()
  const ui = useUiStore()
  const project = shallowRef<ProjectView | null>(null)
  const recent = shallowRef<RecentProject[]>([])
  /** What is being done right now ("opening", "creating" …), for disabling buttons. */
  const busy = ref<string | null>(null)
  /** Set when the native menu asks for a new project or Save As (the home view shows the form). */
  const pendingCommand = ref<'new' | 'save-as' | null>(null)

  watch(project, (view) => rememberDir(view?.dir ?? null))

  useWorkbenchEvent('project:changed', (event) => {
    project.value = event.project
  })
  useWorkbenchEvent('app:command', (event) => {
    if (event.command === 'project:open' && event.path) void open(event.path)
    else if (event.command === 'project:close') void close()
    else if (event.command === 'project:new' || event.command === 'project:save-as') {
      pendingCommand.value = event.command === 'project:new' ? 'new' : 'save-as'
      ui.show('home')
    }
  })

  const runs = computed<RunRecord[]>(() => [...(project.value?.runs ?? [])].sort(compareRunOrder))
  const runsById = computed(() => new Map(runs.value.map((r) => [r.id, r])))
  const experiments = computed<Experiment[]>(() => project.value?.manifest.experiments ?? [])
  const name = computed(() => project.value?.manifest.name ?? '')

  async function run<T>(label: string, action: () => Promise<T>): Promise<T | undefined> {
    busy.value = label
    try {
      return await action()
    } catch (error) {
      ui.reportError(`Could not ${label}`, error)
      return undefined
    } finally {
      busy.value = null
    }
  }

  /** Reads the open project and the recent list (on start-up, and after runs end). */
  async function refresh(): Promise<void> {
    try {
      const [engineView, list] = await Promise.all([workbench.api.getProject(), workbench.api.getRecentProjects()])
      let view = engineView
      const mine = rememberedDir()
      if (mine && view?.dir !== mine) {
        // A reload: this tab had its own project open; the engine's new session starts elsewhere.
        try {
          view = await workbench.api.openProject({ dir: mine })
        } catch (error) {
          ui.reportError(`Could not reopen ${mine}`, error)
        }
      }
      project.value = view
      recent.value = list
      // A reloaded page starts with an empty designer: show the project's saved experiment, not a blank one.
      if (view && ui.designExperimentId === null) ui.designExperimentId = latestExperimentId(view)
    } catch (error) {
      ui.reportError('Could not read the project', error)
    }
  }

  async function refreshRecent(): Promise<void> {
    try {
      recent.value = await workbench.api.getRecentProjects()
    } catch {
      // the home view still works without the list
    }
  }

  async function create(dir: string, projectName?: string): Promise<boolean> {
    const view = await run('create the project', () => workbench.api.createProject({ dir, ...(projectName ? { name: projectName } : {}) }))
    if (!view) return false
    project.value = view
    ui.designExperimentId = null
    void refreshRecent()
    return true
  }

  async function open(dir: string): Promise<boolean> {
    const view = await run('open the project', () => workbench.api.openProject({ dir }))
    if (!view) return false
    project.value = view
    ui.designExperimentId = latestExperimentId(view)
    void refreshRecent()
    return true
  }

  async function close(): Promise<void> {
    await run('close the project', () => workbench.api.closeProject())
    project.value = null
    void refreshRecent()
    ui.show('home')
  }

  async function saveAs(dir: string): Promise<boolean> {
    const view = await run('save the project', () => workbench.api.saveProjectAs({ dir }))
    if (!view) return false
    project.value = view
    void refreshRecent()
    return true
  }

  /** Creates the demo project in `dir`: demo dataset, groups A and B, a quick-look A→B sweep (planned, not started). */
  async function createDemo(dir: string): Promise<boolean> {
    const created = await create(dir, 'Demo project')
    if (!created) return false
    const experiment = demoExperiment()
    ui.designExperimentId = experiment.id
    return saveExperiment(experiment)
  }

  async function saveExperiment(experiment: Experiment): Promise<boolean> {
    const view = await run('save the experiment', () => workbench.api.saveExperiment({ experiment }))
    if (!view) return false
    project.value = view
    return true
  }

  async function deleteExperiment(id: string): Promise<boolean> {
    const view = await run('delete the experiment', () => workbench.api.deleteExperiment({ id }))
    if (!view) return false
    project.value = view
    return true
  }

  return { project, recent, busy, pendingCommand, runs, runsById, experiments, name, refresh, refreshRecent, create, open, close, saveAs, createDemo, saveExperiment, deleteExperiment }
})
