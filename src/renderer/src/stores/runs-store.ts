import { defineStore } from 'pinia'
import { computed, ref, shallowReactive, watch } from 'vue'
import type { RunProgress, RunSummary, SweepStatus } from '../../../shared/contract'
import type { RunRecord } from '../../../shared/project'
import type { DataProgress } from '../../../shared/train-request'
import { useWorkbench } from '../api'
import { useWorkbenchEvent } from '../composables/use-workbench-event'
import { sweepProgress } from '../lib/progress'
import { batchPoint, seriesFromRecords, type RunSeries } from '../lib/series'
import type { MeasuredSpeed } from '../lib/time-estimate'

export type { RunSeries } from '../lib/series'
import { isActive, type AnyRunStatus } from '../lib/runs'
import { useProjectStore } from './project-store'
import { useUiStore } from './ui-store'

const ENDED: AnyRunStatus[] = ['done', 'cancelled', 'failed', 'interrupted']

/**
 * Runs as they train: the latest summary and progress of every run of this session (from events),
 * the sweep's status, and per-run series for charts, loaded from metrics.jsonl once and then
 * extended in place by events.
 */
export const useRunsStore = defineStore('runs', () => {
  const workbench = useWorkbench()
  const ui = useUiStore()
  const projects = useProjectStore()

  const live = shallowReactive(new Map<string, RunSummary>())
  const progress = shallowReactive(new Map<string, RunProgress>())
  /** How far a run has got loading its data, until its first batch. */
  const dataProgress = shallowReactive(new Map<string, DataProgress>())
  const sweep = ref<SweepStatus>({ state: 'idle', index: 0, total: 0, currentRunId: null, message: '' })
  /** Series are plain objects (Chart.js reads them); a version per run tells Vue they changed. */
  const series = new Map<string, RunSeries>()
  const seriesVersion = shallowReactive(new Map<string, number>())
  const loading = new Map<string, Promise<void>>()
  let refreshTimer: ReturnType<typeof setTimeout> | undefined

  const bump = (runId: string): void => {
    seriesVersion.set(runId, (seriesVersion.get(runId) ?? 0) + 1)
  }

  // Another project: forget the last one's live state (run ids are content hashes and may repeat).
  watch(
    () => projects.project?.dir,
    (dir, before) => {
      if (dir === before) return
      live.clear()
      progress.clear()
      dataProgress.clear()
      series.clear()
      seriesVersion.clear()
    }
  )

  /** Reads the project again soon (a run that ended outside a sweep sends no project:changed). */
  function refreshProjectSoon(): void {
    clearTimeout(refreshTimer)
    refreshTimer = setTimeout(() => void projects.refresh(), 300)
  }

  useWorkbenchEvent('run:status', (event) => {
    const before = live.get(event.run.runId)
    live.set(event.run.runId, event.run)
    const s = series.get(event.run.runId)
    if (s && event.run.status === 'running' && before?.status !== 'running') {
      // A resumed run starts again after its last finished epoch: drop the batches of the cut-off one.
      s.batches = s.batches.filter((b) => b.x <= event.run.epochsDone)
      s.epochs = s.epochs.filter((e) => e.epoch <= event.run.epochsDone)
      bump(event.run.runId)
    }
    if (event.run.progress && !progress.has(event.run.runId)) progress.set(event.run.runId, event.run.progress)
    if (event.run.phase !== 'loading-data') dataProgress.delete(event.run.runId)
    if (ENDED.includes(event.run.status) && before?.status !== event.run.status) {
      refreshProjectSoon()
      // Progress events are throttled: once a run ends, its charts take every logged batch from its file.
      if (series.has(event.run.runId)) void loadSeries(event.run.runId, true)
    }
    if (event.run.status === 'running' && !before) refreshProjectSoon()
  })
  useWorkbenchEvent('run:data-progress', (event) => {
    const { type: _type, runId, ...figures } = event
    dataProgress.set(runId, figures)
  })
  useWorkbenchEvent('run:progress', (event) => {
    const { type: _type, runId, ...figures } = event
    progress.set(runId, figures)
    dataProgress.delete(runId)
    const s = series.get(runId)
    if (!s) return
    const point = batchPoint(figures)
    const last = s.batches[s.batches.length - 1]
    if (last && point.x <= last.x) return
    s.batches.push(point)
    bump(runId)
  })
  useWorkbenchEvent('run:epoch', (event) => {
    const s = series.get(event.runId)
    if (!s) return
    const at = s.epochs.findIndex((e) => e.epoch >= event.metrics.epoch)
    if (at === -1) s.epochs.push(event.metrics)
    else if (s.epochs[at]?.epoch === event.metrics.epoch) s.epochs[at] = event.metrics
    else s.epochs.splice(at, 0, event.metrics)
    bump(event.runId)
  })
  useWorkbenchEvent('sweep:status', (event) => {
    sweep.value = event.status
  })

  /** Loads a run's metrics once (later figures arrive by events). */
  function loadSeries(runId: string, force = false): Promise<void> {
    if (!force && series.has(runId)) return Promise.resolve()
    const pending = loading.get(runId)
    if (pending) return pending
    const job = workbench.api
      .getRunMetrics({ runId })
      .then((records) => {
        const fetched = seriesFromRecords(records)
        const current = series.get(runId)
        if (current) {
          // Keep points that arrived by event while the file was being read.
          const lastX = fetched.batches[fetched.batches.length - 1]?.x ?? -1
          const lastEpoch = fetched.epochs[fetched.epochs.length - 1]?.epoch ?? 0
          fetched.batches.push(...current.batches.filter((b) => b.x > lastX))
          fetched.epochs.push(...current.epochs.filter((e) => e.epoch > lastEpoch))
        }
        series.set(runId, fetched)
        bump(runId)
      })
      .catch((error: unknown) => {
        // A planned run has no metrics file yet: show empty charts, not an error.
        series.set(runId, series.get(runId) ?? { epochs: [], batches: [] })
        bump(runId)
        if ((error as { code?: string }).code !== 'not-found') ui.reportError('Could not read the run’s metrics', error)
      })
      .finally(() => loading.delete(runId))
    loading.set(runId, job)
    return job
  }

  /**
   * A run's series, tracked: a computed that calls this re-runs when the run gains points. A new
   * object every version, so computeds built on it see a change (the arrays inside are shared).
   */
  function seriesOf(runId: string): RunSeries | null {
    const version = seriesVersion.get(runId)
    const s = series.get(runId)
    return s ? { epochs: s.epochs, batches: s.batches, version: version ?? 0 } : null
  }

  /** A run's status: the live one when this session has seen it, else what run.json says. */
  function statusOf(run: Pick<RunRecord, 'id' | 'status'>): AnyRunStatus {
    return live.get(run.id)?.status ?? run.status
  }

  const activeRunId = computed(() => {
    for (const [id, summary] of live) if (isActive(summary.status)) return id
    return null
  })

  /** The run queued runs wait for is the active one; a queued run's place among them (1 = next). */
  function queuePositionOf(runId: string): number | null {
    const summary = live.get(runId)
    return summary?.status === 'queued' ? (summary.queuePosition ?? null) : null
  }

  /**
   * Speeds this project has measured, for time estimates: each finished run's figure from run.json,
   * and the live figure of a run training now (from its first logged batch on).
   */
  const measuredSpeeds = computed<MeasuredSpeed[]>(() =>
    projects.runs.map((run) => {
      const now = isActive(statusOf(run)) ? progress.get(run.id) : undefined
      return { config: run.config, imagesPerSecond: now && now.imagesPerSecond > 0 ? now.imagesPerSecond : run.imagesPerSecond }
    })
  )

  const sweepFigures = computed(() => {
    const s = sweep.value
    const current = s.currentRunId ? progress.get(s.currentRunId) : undefined
    const started = s.currentRunId ? live.get(s.currentRunId)?.startedAt : undefined
    const elapsed = started ? (Date.now() - Date.parse(started)) / 1000 : null
    return sweepProgress(s, current, elapsed)
  })

  async function act(label: string, action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action()
      return true
    } catch (error) {
      ui.reportError(`Could not ${label}`, error)
      return false
    }
  }

  async function load(): Promise<void> {
    try {
      sweep.value = await workbench.api.getSweepStatus()
      for (const run of await workbench.api.listRuns()) {
        live.set(run.runId, run)
        if (run.progress) progress.set(run.runId, run.progress)
      }
    } catch {
      // no project open yet, or an older engine: events fill these in
    }
  }

  const startSweep = (): Promise<boolean> =>
    act('start the sweep', async () => {
      sweep.value = await workbench.api.startSweep()
    })
  const cancelSweep = (): Promise<boolean> =>
    act('stop the sweep', async () => {
      sweep.value = await workbench.api.cancelSweep()
    })
  const cancelRun = (runId: string): Promise<boolean> => act('cancel the run', () => workbench.api.cancelRun({ runId }))
  const resumeRun = (runId: string): Promise<boolean> =>
    act('resume the run', async () => {
      // While another run trains this one joins the queue: the monitor keeps showing the run training.
      const queueing = activeRunId.value !== null
      await workbench.api.resumeRun({ runId })
      if (!queueing) ui.monitorRunId = runId
    })

  return { live, progress, dataProgress, sweep, sweepFigures, activeRunId, measuredSpeeds, queuePositionOf, load, loadSeries, seriesOf, statusOf, startSweep, cancelSweep, cancelRun, resumeRun }
})
