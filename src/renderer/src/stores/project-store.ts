import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ProjectView, RecentProject } from '../../../shared/contract'
import type { Experiment, RunRecord } from '../../../shared/project'
import { useWorkbench } from '../api'
import { useWorkbenchEvent } from '../composables/use-workbench-event'
import { demoExperiment } from '../lib/demo-project'
import { compareRuns } from '../lib/runs'
import { useUiStore } from './ui-store'

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

  const runs = computed<RunRecord[]>(() => [...(project.value?.runs ?? [])].sort(compareRuns))
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
      const [view, list] = await Promise.all([workbench.api.getProject(), workbench.api.getRecentProjects()])
      project.value = view
      recent.value = list
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
    ui.designExperimentId = view.manifest.experiments[0]?.id ?? null
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
