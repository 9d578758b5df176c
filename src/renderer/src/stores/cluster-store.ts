import { defineStore } from 'pinia'
import { computed, ref, shallowRef, watch } from 'vue'
import type { ProjectStatus, RunStatusRow } from '../../../shared/cluster-status'
import { useWorkbench } from '../api'
import { useProjectStore } from './project-store'
import { useRunsStore } from './runs-store'
import { useUiStore } from './ui-store'

/** How often the monitor asks while a job is queued or running. */
export const ACTIVE_POLL_MS = 3000
/** How often it looks for a first submission (a cheap check: Slurm is not asked without one). */
export const IDLE_POLL_MS = 10_000
/** How long it keeps asking after the last job ended (a resubmission shows up), before it waits for Refresh. */
export const QUIET_AFTER_MS = 30_000

/**
 * The project's runs as the Slurm cluster sees them (`getClusterStatus`), polled while the run monitor
 * is shown: the project is read again when a run's state changes, and the followed run's charts are
 * read again from its metrics.jsonl as the task on the cluster writes it. Works where Slurm's commands
 * are missing (a laptop with the project mounted): the rows then follow the run folders.
 */
export const useClusterStore = defineStore('cluster', () => {
  const workbench = useWorkbench()
  const ui = useUiStore()
  const projects = useProjectStore()
  const runs = useRunsStore()

  /** The last answer; null when the project has no Slurm submissions (or before the first answer). */
  const status = shallowRef<ProjectStatus | null>(null)
  /** When the last answer arrived (ms since the epoch), null before the first. */
  const updatedAt = ref<number | null>(null)
  /** Why the last request failed, if it did. */
  const error = ref<string | null>(null)
  const loading = ref(false)
  /** Whether the monitor is asking on its own (false once everything has settled: Refresh asks again). */
  const polling = ref(false)
  /** The run whose charts follow its metrics file: the monitor's selected run. */
  const followRunId = ref<string | null>(null)

  const rowsById = computed(() => new Map((status.value?.rows ?? []).map((row) => [row.id, row])))
  /** Any job queued or running. */
  const active = computed(() => (status.value ? status.value.counts.queued + status.value.counts.running > 0 : false))

  let viewers = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let inFlight: Promise<void> | null = null
  let quietSince: number | null = null
  /** Per run: the progress its series was last read at, so it is read again only when the file grew. */
  const loadedAt = new Map<string, number>()

  /**
   * The Slurm row of a run submitted to the cluster, or null for a run that never was (or that this
   * session trains locally: its events say more than the folder).
   */
  function slurmRow(runId: string): RunStatusRow | null {
    const row = rowsById.value.get(runId)
    if (!row || row.jobId === null || runs.live.has(runId)) return null
    return row
  }

  /** Reads the followed run's metrics again when its file has grown (or its run has ended) since the last read. */
  function followSeries(): void {
    const id = followRunId.value
    const row = id ? slurmRow(id) : null
    if (!id || !row || row.state === 'planned' || row.state === 'queued' || loadedAt.get(id) === row.progress) return
    loadedAt.set(id, row.progress)
    void runs.loadSeries(id, true)
  }

  function apply(next: ProjectStatus | null): void {
    const before = rowsById.value
    status.value = next
    updatedAt.value = Date.now()
    error.value = null
    if (!next) return
    // A run started, ended or failed: read the project again (run.json holds its figures now).
    const changed = next.rows.some((row) => {
      const old = before.get(row.id)
      return old !== undefined && (old.state !== row.state || old.runStatus !== row.runStatus)
    })
    // Runs planned or deleted outside the app (a submission from a terminal plans them): the project has news too.
    const known = projects.runsById
    const newRuns = next.rows.length !== before.size || next.rows.some((row) => !before.has(row.id))
    const unknownToProject = next.rows.length !== known.size || next.rows.some((row) => !known.has(row.id))
    if (changed || (newRuns && unknownToProject)) void projects.refresh()
    followSeries()
  }

  function nextDelay(): number | null {
    if (!status.value) return IDLE_POLL_MS
    if (active.value) {
      quietSince = null
      return ACTIVE_POLL_MS
    }
    quietSince ??= Date.now()
    return Date.now() - quietSince < QUIET_AFTER_MS ? ACTIVE_POLL_MS : null
  }

  function schedule(delay: number | null): void {
    clearTimeout(timer)
    timer = undefined
    polling.value = viewers > 0 && projects.project !== null && delay !== null
    if (polling.value) timer = setTimeout(() => void refresh(), delay as number)
  }

  /** Asks for the cluster status now (Refresh, or the timer); `manual` reports failures as notices and polls again. */
  function refresh(manual = false): Promise<void> {
    if (manual) quietSince = null
    if (inFlight) return inFlight
    const dir = projects.project?.dir
    if (!dir) {
      schedule(null)
      return Promise.resolve()
    }
    loading.value = true
    inFlight = workbench.api
      .getClusterStatus()
      .then(
        (next) => {
          // Another project was opened meanwhile: this answer is about the old one; ask again.
          if (projects.project?.dir !== dir) return schedule(0)
          apply(next)
          schedule(nextDelay())
        },
        (failure: unknown) => {
          error.value = failure instanceof Error ? failure.message : String(failure)
          if (manual) ui.reportError('Could not read the cluster status', failure)
          schedule(IDLE_POLL_MS)
        }
      )
      .finally(() => {
        loading.value = false
        inFlight = null
      })
    return inFlight
  }

  /** Starts polling while a view shows the cluster; returns the function that stops it. */
  function watchCluster(): () => void {
    viewers++
    quietSince = null
    void refresh()
    let stopped = false
    return () => {
      if (stopped) return
      stopped = true
      viewers--
      if (viewers === 0) schedule(null)
    }
  }

  // Another project: forget the last one's rows and ask about the new one.
  watch(
    () => projects.project?.dir,
    (dir, before) => {
      if (dir === before) return
      status.value = null
      updatedAt.value = null
      error.value = null
      loadedAt.clear()
      quietSince = null
      if (viewers > 0) void refresh()
    }
  )
  // Another run followed: bring its charts up to what its file holds now.
  watch(followRunId, () => followSeries())

  return { status, updatedAt, error, loading, polling, active, followRunId, rowsById, slurmRow, refresh, watchCluster }
})
