import { ApiError } from '../../shared/contract-errors'
import type { FeatureProgress, FeatureStudyRequest, FeatureStudyResult } from '../../shared/features'
import type { JobRegistry } from './jobs'
import { toApiErrorData } from './to-api-error'
import type { TrainerSupervisor } from './trainer-supervisor'

const KIND = 'features'
const KEPT_ENDED = 20

/**
 * Feature studies (caches, few-shot curves, probes, temperature) as jobs of the open project: an id at
 * once, then `features:progress` (throttled) and one `features:done` or `features:failed`. They run in
 * the trainer process beside any training job; the job's id is the trainer's task id.
 */
export class FeatureJobs {
  constructor(
    private readonly supervisor: TrainerSupervisor,
    private readonly jobs: JobRegistry
  ) {}

  /** Starts a study in `projectDir` (its caches go to the project's cache/). */
  start(projectDir: string, request: FeatureStudyRequest): { jobId: string } {
    let report: (progress: FeatureProgress) => void = () => undefined
    const task = this.supervisor.acquire().startTask('featureStudy', { projectDir, request }, (progress) => report(progress))
    const jobId = task.jobId
    this.jobs.start<FeatureProgress, FeatureStudyResult>(
      KIND,
      ({ signal, progress }) => {
        report = progress
        signal.addEventListener('abort', () => this.supervisor.current?.cancel(task.jobId), { once: true })
        return task.result
      },
      {
        id: jobId,
        progress: (progress) => ({ event: { type: 'features:progress', jobId, progress }, keep: progress.done >= progress.total }),
        done: (result) => ({ type: 'features:done', jobId, result }),
        failed: (error) => ({ type: 'features:failed', jobId, error: toApiErrorData(error), cancelled: (error as Error)?.name === 'FeatureStudyCancelled' }),
        // Nobody asks after an ended study (its events said everything): keep only a few.
        ended: () => this.jobs.prune(KIND, KEPT_ENDED)
      }
    )
    return { jobId }
  }

  /** Stops a study between image batches or heads; it ends with `features:failed` (cancelled). */
  cancel(jobId: string): void {
    if (this.jobs.get(jobId)?.kind !== KIND || !this.jobs.cancel(jobId)) throw new ApiError('not-found', `no running feature study ${jobId}`)
  }
}
