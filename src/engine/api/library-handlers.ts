/**
 * The dataset library over the contract: downloads and imports run as jobs that answer with an id at
 * once and report through `library:job` events (progress throttled, state changes always sent);
 * `library:changed` follows every registration and removal. Transport-agnostic, like the rest of
 * the API.
 */
import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import type { WorkbenchEvent } from '../../shared/contract'
import { ApiError, type ApiErrorCode } from '../../shared/contract-errors'
import type {
  DownloadDatasetInput,
  ImportDatasetInput,
  LibraryDataset,
  LibraryJob,
  LibraryJobRef,
  LibraryListing,
  LibraryProgress,
  RemoveDatasetInput
} from '../../shared/library'
import { downloadDataset } from '../datasets-library/download-dataset'
import { importDataset } from '../datasets-library/import-dataset'
import { isCancellation, LibraryError, type LibraryFailureReason } from '../datasets-library/library-error'
import { listLibrary } from '../datasets-library/library-listing'
import { removeDataset } from '../datasets-library/remove-dataset'
import { JobRegistry } from './jobs'

/** Finished jobs kept for `listLibraryJobs` (a view opened later still sees how they ended). */
const KEPT_FINISHED_JOBS = 20

export interface LibraryServiceOptions {
  /** The data folder, asked at each request so a changed setting applies to the next one. */
  dataDir: () => string
  emit: (event: WorkbenchEvent) => void
  progressIntervalMs?: number
  /** The session's job registry (one of its own when omitted). */
  jobs?: JobRegistry
  /** Passed to downloads (tests shorten them). */
  downloadTuning?: { retries?: number; retryDelayMs?: number; stallTimeoutMs?: number }
}

/** The library requests of the contract. */
export interface LibraryService {
  listLibrary(): Promise<LibraryListing>
  downloadDataset(input: DownloadDatasetInput): Promise<LibraryJobRef>
  importDataset(input: ImportDatasetInput): Promise<LibraryJobRef>
  cancelLibraryJob(input: LibraryJobRef): Promise<void>
  listLibraryJobs(): Promise<LibraryJob[]>
  removeDataset(input: RemoveDatasetInput): Promise<LibraryDataset>
  /** Resolves when every running job has ended (tests, shutdown). */
  idle(): Promise<void>
}

/** The registry's kind for library jobs. */
const KIND = 'library'

/** Creates the library side of the API. Inputs arrive already validated by request-schemas.ts. */
export function createLibraryService(options: LibraryServiceOptions): LibraryService {
  const registry = options.jobs ?? new JobRegistry(options.emit, options.progressIntervalMs)
  /** Each job's state as the contract shows it, by id (the registry keeps its id, cancel and end). */
  const jobs = new Map<string, LibraryJob>()

  const emitChanged = async (): Promise<void> => {
    try {
      options.emit({ type: 'library:changed', listing: await listLibrary(options.dataDir()) })
    } catch (error) {
      process.stderr.write(`workbench: library: ${(error as Error).message}\n`)
    }
  }

  /** Starts a job; `work` does it, reporting through the callback it is given. */
  function startJob(kind: LibraryJob['kind'], target: string, work: (signal: AbortSignal, onProgress: (p: LibraryProgress) => void) => Promise<LibraryDataset>): LibraryJobRef {
    const jobId = `${kind === 'download' ? 'dl' : 'im'}-${randomBytes(6).toString('hex')}`
    const job: LibraryJob = {
      jobId,
      kind,
      target,
      state: kind === 'download' ? 'downloading' : 'scanning',
      done: 0,
      total: null,
      unit: kind === 'download' ? 'bytes' : 'files',
      bytesPerSecond: null,
      etaSeconds: null,
      resumedFromBytes: 0,
      message: `starting ${kind === 'download' ? 'the download of' : 'the import of'} ${target}`,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      dataset: null,
      error: null,
      failure: null,
      manual: null
    }
    jobs.set(jobId, job)
    const snapshot = (): WorkbenchEvent => ({ type: 'library:job', job: structuredClone(job) })
    registry.start<LibraryProgress, LibraryDataset>(KIND, ({ signal, progress }) => work(signal, progress), {
      id: jobId,
      started: snapshot,
      progress: (p) => {
        const stateChanged = p.state !== job.state
        // Where the download resumed from stays a fact of the job through the later steps.
        Object.assign(job, p, { resumedFromBytes: p.state === 'downloading' ? p.resumedFromBytes : job.resumedFromBytes })
        // A new step must show at once; progress within a step may be coalesced.
        return { event: snapshot(), keep: stateChanged }
      },
      done: (dataset) => {
        Object.assign(job, { state: 'done', dataset, message: `${dataset.name} is in the library`, bytesPerSecond: null, etaSeconds: null })
        job.finishedAt = new Date().toISOString()
        return snapshot()
      },
      isCancellation,
      failed: (error, cancelled) => {
        const apiError = toLibraryApiError(error)
        Object.assign(job, {
          state: cancelled ? 'cancelled' : 'failed',
          failure: cancelled ? 'cancelled' : error instanceof LibraryError ? error.reason : 'internal',
          manual: error instanceof LibraryError ? (error.manual ?? null) : null,
          error: apiError.toData(),
          message: apiError.message,
          bytesPerSecond: null,
          etaSeconds: null
        })
        job.finishedAt = new Date().toISOString()
        if (!(error instanceof LibraryError)) process.stderr.write(`workbench: ${kind} ${target} failed: ${(error as Error)?.stack ?? String(error)}\n`)
        return snapshot()
      },
      ended: async () => {
        if (job.state === 'done') await emitChanged()
        registry.prune(KIND, KEPT_FINISHED_JOBS)
        for (const id of jobs.keys()) if (!registry.get(id)) jobs.delete(id)
      }
    })
    return { jobId }
  }

  /** The running job for the same kind and target, if any: one download of CIFAR-10 at a time. */
  const runningFor = (kind: LibraryJob['kind'], target: string): LibraryJob | undefined =>
    [...jobs.values()].find((j) => j.kind === kind && j.target === target && j.finishedAt === null)

  return {
    listLibrary: () => wrap(() => listLibrary(options.dataDir())),

    async downloadDataset(input) {
      const running = runningFor('download', input.dataset)
      if (running) throw new ApiError('busy', `${input.dataset} is already being downloaded (job ${running.jobId})`)
      const dataDir = options.dataDir()
      return startJob('download', input.dataset, async (signal, onProgress) => {
        const result = await downloadDataset({ ...input, dataDir, signal, onProgress, ...options.downloadTuning })
        return result.dataset
      })
    },

    async importDataset(input) {
      const info = await stat(input.path).catch(() => undefined)
      if (!info) throw new ApiError('not-found', `${input.path}: no such file or folder`)
      const running = runningFor('import', input.path)
      if (running) throw new ApiError('busy', `${input.path} is already being imported (job ${running.jobId})`)
      const dataDir = options.dataDir()
      return startJob('import', input.path, (signal, onProgress) => importDataset({ ...input, dataDir, signal, onProgress }))
    },

    async cancelLibraryJob({ jobId }) {
      if (!jobs.has(jobId)) throw new ApiError('not-found', `no library job ${jobId}`)
      registry.cancel(jobId)
    },

    async listLibraryJobs() {
      return [...jobs.values()].map((j) => structuredClone(j)).reverse()
    },

    async removeDataset(input) {
      const removed = await wrap(() => removeDataset({ ...input, dataDir: options.dataDir() }))
      await emitChanged()
      return removed
    },

    async idle() {
      await registry.idle(KIND)
    }
  }
}

const API_CODES: Record<LibraryFailureReason, ApiErrorCode> = {
  offline: 'dataset',
  http: 'dataset',
  interrupted: 'dataset',
  checksum: 'dataset',
  archive: 'dataset',
  data: 'dataset',
  'not-found': 'not-found',
  conflict: 'invalid-request',
  invalid: 'invalid-request',
  index: 'dataset',
  cancelled: 'dataset'
}

/** A library failure as the contract's error (the job's `failure` field keeps the precise reason). */
export function toLibraryApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof LibraryError) return new ApiError(API_CODES[error.reason], error.message)
  return new ApiError('internal', String((error as Error)?.message ?? error))
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw error instanceof LibraryError ? toLibraryApiError(error) : error
  }
}
