import { defineStore } from 'pinia'
import { computed, ref, shallowReactive, shallowRef } from 'vue'
import type { WorkbenchEvent } from '../../../shared/contract'
import type { FeatureProgress, FeatureStudyRequest, FeatureStudyResult } from '../../../shared/features'
import type { VizLayerInfo } from '../../../shared/viz'
import { useWorkbench } from '../api'
import { useWorkbenchEvent } from '../composables/use-workbench-event'
import { createFeatureDraft, type FeatureDraft } from '../lib/features-form'
import { useProjectStore } from './project-store'
import { useUiStore } from './ui-store'

/** The study running now (one at a time from this window). */
export interface FeatureJob {
  /** Null between the request and its answer. */
  jobId: string | null
  projectDir: string
  request: FeatureStudyRequest
  progress: FeatureProgress | null
  /** Work per second in the current phase's unit, once the phase has run long enough to say. */
  rate: number | null
  startedAt: number
  cancelling: boolean
}

/** A finished study, kept per project so the view shows it again on return. */
export interface StoredFeatureResult {
  request: FeatureStudyRequest
  result: FeatureStudyResult
  finishedAt: string
  /** Wall-clock seconds from Run to the result. */
  seconds: number
}

/** How the last study of a project ended when it did not give a result. */
export interface FeatureOutcome {
  projectDir: string
  kind: 'failed' | 'cancelled'
  message: string
}

type FeatureEvent = Extract<WorkbenchEvent, { type: 'features:progress' | 'features:done' | 'features:failed' }>

/** Shortest stretch of a phase (ms) before a rate is shown: earlier ones jump around. */
const RATE_AFTER_MS = 500

/** Frozen-feature studies: the form's draft, the running job with its progress, the last result per project. */
export const useFeaturesStore = defineStore('features', () => {
  const workbench = useWorkbench()
  const projects = useProjectStore()
  const ui = useUiStore()

  const draft = ref<FeatureDraft>(createFeatureDraft())
  const job = ref<FeatureJob | null>(null)
  const results = shallowReactive(new Map<string, StoredFeatureResult>())
  const outcomes = shallowReactive(new Map<string, FeatureOutcome>())
  /** Layers of a run (from `runViz` 'layers'), by run id. */
  const layers = shallowReactive(new Map<string, VizLayerInfo[]>())
  const layerErrors = shallowReactive(new Map<string, string>())
  /** Events that came before the job's id did (the answer and the first events may cross). */
  const early = shallowRef<FeatureEvent[]>([])
  let phaseStart: { phase: FeatureProgress['phase']; at: number; done: number } | null = null

  const projectDir = computed(() => projects.project?.dir ?? null)
  const running = computed(() => job.value !== null)
  /** The running job, when it belongs to the open project. */
  const currentJob = computed(() => (job.value && job.value.projectDir === projectDir.value ? job.value : null))
  const currentResult = computed(() => (projectDir.value ? (results.get(projectDir.value) ?? null) : null))
  const currentOutcome = computed(() => (projectDir.value ? (outcomes.get(projectDir.value) ?? null) : null))

  function onProgress(progress: FeatureProgress, now = Date.now()): void {
    const active = job.value
    if (!active) return
    if (!phaseStart || phaseStart.phase !== progress.phase || progress.done < phaseStart.done) phaseStart = { phase: progress.phase, at: now, done: progress.done }
    const elapsed = now - phaseStart.at
    const rate = elapsed >= RATE_AFTER_MS && progress.done > phaseStart.done ? ((progress.done - phaseStart.done) * 1000) / elapsed : null
    job.value = { ...active, progress, rate: rate ?? (active.progress?.phase === progress.phase ? active.rate : null) }
  }

  function handle(event: FeatureEvent): void {
    const active = job.value
    if (!active) return
    if (active.jobId === null) {
      early.value = [...early.value, event]
      return
    }
    if (event.jobId !== active.jobId) return
    if (event.type === 'features:progress') return onProgress(event.progress)
    job.value = null
    phaseStart = null
    if (event.type === 'features:done') {
      results.set(active.projectDir, { request: active.request, result: event.result, finishedAt: new Date().toISOString(), seconds: (Date.now() - active.startedAt) / 1000 })
      outcomes.delete(active.projectDir)
    } else {
      outcomes.set(active.projectDir, { projectDir: active.projectDir, kind: event.cancelled ? 'cancelled' : 'failed', message: event.cancelled ? 'The study was cancelled.' : event.error.message })
      if (!event.cancelled) ui.notify('error', `The feature study failed: ${event.error.message}`)
    }
  }

  useWorkbenchEvent('features:progress', handle)
  useWorkbenchEvent('features:done', handle)
  useWorkbenchEvent('features:failed', handle)

  /** Starts a study on the open project; false when it could not start (the error is shown). */
  async function start(request: FeatureStudyRequest): Promise<boolean> {
    const dir = projectDir.value
    if (!dir || job.value) return false
    job.value = { jobId: null, projectDir: dir, request, progress: null, rate: null, startedAt: Date.now(), cancelling: false }
    phaseStart = null
    early.value = []
    outcomes.delete(dir)
    try {
      const { jobId } = await workbench.api.startFeatureStudy(request)
      if (!job.value) return false
      job.value = { ...job.value, jobId }
      const pending = early.value
      early.value = []
      for (const event of pending) handle(event)
      return true
    } catch (error) {
      job.value = null
      ui.reportError('Could not start the feature study', error)
      return false
    }
  }

  /** Asks the running study to stop; it ends with a cancelled outcome. */
  async function cancel(): Promise<void> {
    const active = job.value
    if (!active?.jobId || active.cancelling) return
    job.value = { ...active, cancelling: true }
    try {
      await workbench.api.cancelFeatureStudy({ jobId: active.jobId })
    } catch (error) {
      // The study may have just ended on its own; only a still-running one is worth a message.
      if (job.value?.jobId === active.jobId) {
        job.value = { ...job.value, cancelling: false }
        ui.reportError('Could not cancel the feature study', error)
      }
    }
  }

  /** Reads a run's layers once (input to output order). */
  async function loadLayers(runId: string): Promise<VizLayerInfo[] | null> {
    const known = layers.get(runId)
    if (known) return known
    try {
      const { data: list } = await workbench.api.runViz({ kind: 'layers', request: { runId } })
      layers.set(runId, list)
      layerErrors.delete(runId)
      return list
    } catch (error) {
      layerErrors.set(runId, error instanceof Error ? error.message : String(error))
      return null
    }
  }

  return { draft, job, results, outcomes, layers, layerErrors, running, currentJob, currentResult, currentOutcome, start, cancel, loadLayers, onProgress }
})
