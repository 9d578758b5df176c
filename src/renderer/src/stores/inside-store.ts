import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { RunRecord } from '../../../shared/project'
import type { VizImageSource, VizLayerInfo } from '../../../shared/viz'
import type { VizCalls, VizKind } from '../../../shared/viz-calls'
import { useWorkbench } from '../api'
import { downloadDataUrl } from '../lib/download'
import { useProjectStore } from './project-store'
import { useUiStore } from './ui-store'

/** The image the activation and prediction panels look at, with what the picker shows for it. */
export interface ChosenImage {
  source: VizImageSource
  /** A preview (data URL) and a caption ("disc · val #3", "dropped: cat.jpg"). */
  preview: string
  caption: string
}

/** Which tab of the Inside view is shown. */
export type InsidePanel = 'filters' | 'activations' | 'top' | 'compare' | 'predictions'

/**
 * The Inside view's selections (run, layer, image, channel) and its one way to the engine: `runViz`
 * requests of the open project, and PNG exports of the same requests at full resolution.
 */
export const useInsideStore = defineStore('inside', () => {
  const workbench = useWorkbench()
  const projects = useProjectStore()
  const ui = useUiStore()

  const panel = ref<InsidePanel>('filters')
  const chosenRunId = ref<string | null>(null)
  const layerName = ref('')
  const layers = shallowRef<VizLayerInfo[]>([])
  const layersError = ref('')
  const image = shallowRef<ChosenImage | null>(null)
  /** The channel the top-images panel ranks by (maps link to it). */
  const channel = ref(0)
  /** Exports under way, by key, for disabling their buttons. */
  const exporting = ref<string[]>([])

  /** Runs with weights to look at (at least one finished epoch). */
  const runs = computed<RunRecord[]>(() => projects.runs.filter((r) => r.bestEpoch !== null))
  /** The run looked at: the one chosen here, else the one picked in results, else the first with weights. */
  const runId = computed<string | null>(() => {
    const ids = new Set(runs.value.map((r) => r.id))
    if (chosenRunId.value && ids.has(chosenRunId.value)) return chosenRunId.value
    if (ui.resultsRunId && ids.has(ui.resultsRunId)) return ui.resultsRunId
    return runs.value[0]?.id ?? null
  })
  const run = computed(() => (runId.value ? (projects.runsById.get(runId.value) ?? null) : null))
  const layer = computed(() => layers.value.find((l) => l.name === layerName.value) ?? null)
  const convLayers = computed(() => layers.value.filter((l) => l.kind === 'conv'))

  /** One viz request of the open project. */
  async function call<K extends VizKind>(kind: K, request: VizCalls[K][0]): Promise<VizCalls[K][1]> {
    const answer = await workbench.api.runViz({ kind, request })
    return answer.data as VizCalls[K][1]
  }

  /** Renders a request as a full-resolution PNG in the engine and saves it. */
  async function exportPng<K extends VizKind>(kind: K, request: VizCalls[K][0], fileName: string): Promise<boolean> {
    const key = `${kind}:${fileName}`
    exporting.value = [...exporting.value, key]
    try {
      const answer = await workbench.api.runViz({ kind, request, png: true })
      if (!answer.png) throw new Error('the engine made no picture for this')
      downloadDataUrl(answer.png, fileName)
      return true
    } catch (error) {
      ui.reportError('Could not export the PNG', error)
      return false
    } finally {
      exporting.value = exporting.value.filter((k) => k !== key)
    }
  }

  async function loadLayers(id: string | null): Promise<void> {
    layersError.value = ''
    if (!id) {
      layers.value = []
      return
    }
    try {
      const list = await call('layers', { runId: id })
      if (runId.value !== id) return
      layers.value = list
      if (!list.some((l) => l.name === layerName.value)) layerName.value = list.find((l) => l.kind === 'conv')?.name ?? list[0]?.name ?? ''
    } catch (error) {
      if (runId.value === id) {
        layers.value = []
        layersError.value = (error as Error).message
      }
    }
  }
  // A split image belongs to the run's own split: another run may have another split.
  watch(runId, (id, before) => {
    if (before !== undefined && image.value?.source.kind === 'split') image.value = null
    void loadLayers(id)
  })

  function chooseRun(id: string): void {
    chosenRunId.value = id
  }

  /** Transferred runs with weights: what Compare can show, each beside the base it was copied from. */
  const compareTargets = computed(() => runs.value.filter((r) => r.kind === 'transfer' && r.sourceRunId))
  // Compare has one choice, the model in the top bar, and it must be a transferred one: looking at a
  // base, Compare moves to a model transferred from it (or the first transferred model).
  watch(
    [panel, compareTargets],
    ([shown, targets]) => {
      if (shown !== 'compare' || targets.length === 0) return
      const current = run.value
      if (current && targets.some((r) => r.id === current.id)) return
      const next = targets.find((r) => r.sourceRunId === current?.id) ?? targets[0]
      if (next) chooseRun(next.id)
    },
    { immediate: true }
  )

  /** Loads the layers of the current run (when the view opens). */
  function start(): void {
    if (layers.value.length === 0 || layersError.value) void loadLayers(runId.value)
  }

  return { panel, chosenRunId, runId, run, runs, compareTargets, layerName, layer, layers, convLayers, layersError, image, channel, exporting, call, exportPng, chooseRun, start, loadLayers }
})
