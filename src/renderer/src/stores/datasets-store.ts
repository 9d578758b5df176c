import { defineStore } from 'pinia'
import { computed, ref, shallowReactive, shallowRef } from 'vue'
import type { DatasetDetails, DatasetSummary } from '../../../shared/contract'
import type { LibraryDataset, LibraryJob, LibraryListing } from '../../../shared/library'
import { useWorkbench } from '../api'
import { useWorkbenchEvent } from '../composables/use-workbench-event'
import { datasetNameFromId } from '../lib/data-library'
import { useUiStore } from './ui-store'

/** Images per class of the built-in demo dataset (train split). */
const DEMO_TRAIN_PER_CLASS = 300
const DEMO_TEST_PER_CLASS = 100

/** Image counts of one class, per split, when known. */
export interface ClassCounts {
  train: number
  test: number
}

/** Datasets: the list, each one's classes with thumbnails (cached), the library, downloads and imports. */
export const useDatasetsStore = defineStore('datasets', () => {
  const workbench = useWorkbench()
  const ui = useUiStore()
  const list = shallowRef<DatasetSummary[]>([])
  const details = shallowReactive(new Map<string, DatasetDetails>())
  const detailErrors = shallowReactive(new Map<string, string>())
  const library = shallowRef<LibraryListing | null>(null)
  const jobs = shallowReactive(new Map<string, LibraryJob>())
  /** Finished jobs the user has dismissed from the view. */
  const dismissed = shallowReactive(new Set<string>())
  const loadingList = ref(false)
  /** Whether the list has been answered at least once (until then "no datasets" would be a guess). */
  const listLoaded = ref(false)
  const inspecting = new Map<string, Promise<DatasetDetails | null>>()

  useWorkbenchEvent('library:job', (event) => {
    jobs.set(event.job.jobId, event.job)
    if (event.job.state === 'done') void loadList()
    // The data view shows failures in the job's own row; elsewhere a notice tells of them.
    if (event.job.state === 'failed' && ui.view !== 'data') ui.notify('error', `${event.job.kind === 'download' ? 'Download' : 'Import'} failed: ${event.job.error?.message ?? event.job.message}${event.job.manual ? ` — ${event.job.manual}` : ''}`)
  })
  useWorkbenchEvent('library:changed', (event) => {
    library.value = event.listing
    void loadList()
  })

  async function loadList(): Promise<void> {
    loadingList.value = true
    try {
      list.value = await workbench.api.listDatasets()
      listLoaded.value = true
    } catch (error) {
      ui.reportError('Could not list the datasets', error)
    } finally {
      loadingList.value = false
    }
  }

  async function loadLibrary(): Promise<void> {
    try {
      library.value = await workbench.api.listLibrary()
      for (const job of await workbench.api.listLibraryJobs()) jobs.set(job.jobId, job)
    } catch {
      // an engine without a library still lists its datasets
    }
  }

  /** A dataset's classes with thumbnails, read once per session. */
  function inspect(id: string): Promise<DatasetDetails | null> {
    const known = details.get(id)
    if (known) return Promise.resolve(known)
    const pending = inspecting.get(id)
    if (pending) return pending
    const job = workbench.api
      .inspectDataset({ id, samplesPerClass: 6 })
      .then((d) => {
        details.set(id, d)
        detailErrors.delete(id)
        return d
      })
      .catch((error: unknown) => {
        detailErrors.set(id, (error as Error).message)
        return null
      })
      .finally(() => inspecting.delete(id))
    inspecting.set(id, job)
    return job
  }

  /** Class names of a dataset: from the list (cheap) or its details. */
  function classNamesOf(id: string): string[] {
    return list.value.find((d) => d.id === id)?.classNames ?? details.get(id)?.classes.map((c) => c.name) ?? []
  }

  /**
   * A dataset's name for people ("CIFAR-10", "cifar10-jpg"), never its raw id: the list's name, the
   * library's title, or the id's folder name when the dataset is not (or no longer) found.
   */
  function nameOf(id: string): string {
    const listed = list.value.find((d) => d.id === id)?.name
    if (listed) return listed
    const entry = library.value?.datasets.find((d) => d.datasetIds.includes(id))
    if (entry) return entry.title
    return datasetNameFromId(id)
  }

  /** Image counts per class where known: the demo's fixed sizes, or the library's scan of a dataset. */
  function countsOf(id: string): Map<string, ClassCounts> | null {
    if (id === 'demo') return new Map(classNamesOf('demo').map((name) => [name, { train: DEMO_TRAIN_PER_CLASS, test: DEMO_TEST_PER_CLASS }]))
    const entry = library.value?.datasets.find((d) => d.datasetIds.includes(id))
    if (entry && !id.startsWith('cifar100-coarse:')) return new Map(entry.classes.map((c) => [c.name, { train: c.train, test: c.test }]))
    // Not in the library (a folder found in the engine's dataset folders): the engine's count of its files.
    const inspected = details.get(id)?.classes
    if (inspected?.every((c) => c.counts)) return new Map(inspected.map((c) => [c.name, { train: c.counts?.train ?? 0, test: c.counts?.test ?? 0 }]))
    return null
  }

  /** The smallest training count of the classes given (what a run's per-class cap meets first). */
  function trainPerClassOf(id: string, classes: readonly string[]): number | null {
    const counts = countsOf(id)
    if (!counts) return null
    const values = classes.map((c) => counts.get(c)?.train).filter((v): v is number => v !== undefined)
    return values.length ? Math.min(...values) : null
  }

  const activeJobs = computed(() => [...jobs.values()].filter((j) => !['done', 'failed', 'cancelled'].includes(j.state)))
  /** The rows the view shows: running jobs, and failed or cancelled ones until dismissed; newest first. */
  const visibleJobs = computed(() =>
    [...jobs.values()].filter((j) => j.state !== 'done' && !dismissed.has(j.jobId)).sort((a, b) => b.startedAt.localeCompare(a.startedAt))
  )

  function dismissJob(jobId: string): void {
    dismissed.add(jobId)
  }

  async function importPath(path: string, name?: string): Promise<void> {
    try {
      await workbench.api.importDataset({ path, ...(name ? { name } : {}) })
    } catch (error) {
      ui.reportError('Could not import', error)
    }
  }

  /** Starts a download; `mirror` carries the advanced fields (a mirror URL and/or an expected MD5). */
  async function download(dataset: 'cifar10' | 'cifar100', mirror: { url?: string; md5?: string } = {}): Promise<void> {
    try {
      await workbench.api.downloadDataset({ dataset, ...mirror })
    } catch (error) {
      ui.reportError('Could not start the download', error)
    }
  }

  /** Removes a dataset from the library (and its files when asked and the library made them). */
  async function removeDataset(name: string, deleteFiles: boolean): Promise<LibraryDataset | null> {
    try {
      const removed = await workbench.api.removeDataset({ name, ...(deleteFiles ? { deleteFiles: true } : {}) })
      for (const id of removed.datasetIds) {
        details.delete(id)
        detailErrors.delete(id)
      }
      if (removed.datasetIds.includes(ui.datasetId)) ui.datasetId = 'demo'
      library.value = await workbench.api.listLibrary()
      await loadList()
      return removed
    } catch (error) {
      ui.reportError(`Could not remove ${name}`, error)
      return null
    }
  }

  async function cancelJob(jobId: string): Promise<void> {
    try {
      await workbench.api.cancelLibraryJob({ jobId })
    } catch (error) {
      ui.reportError('Could not cancel', error)
    }
  }

  return {
    list,
    details,
    detailErrors,
    library,
    jobs,
    activeJobs,
    visibleJobs,
    loadingList,
    listLoaded,
    loadList,
    loadLibrary,
    inspect,
    classNamesOf,
    nameOf,
    countsOf,
    trainPerClassOf,
    importPath,
    download,
    cancelJob,
    dismissJob,
    removeDataset
  }
})
