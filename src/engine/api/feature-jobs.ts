import type { WorkbenchEvent } from '../../shared/contract'
import { ApiError } from '../../shared/contract-errors'
import type { FeatureStudyRequest } from '../../shared/features'
import { createProgressThrottle } from './progress-throttle'
import { toApiErrorData } from './to-api-error'
import type { TrainerSupervisor } from './trainer-supervisor'

/**
 * Feature studies (caches, few-shot curves, probes, temperature) as jobs of the open project: an id at
 * once, then `features:progress` (throttled) and one `features:done` or `features:failed`. They run in
 * the trainer process beside any training job.
 */
export class FeatureJobs {
  private readonly running = new Map<string, { trainerJobId: string }>()

  constructor(
    private readonly supervisor: TrainerSupervisor,
    private readonly emit: (event: WorkbenchEvent) => void,
    private readonly progressIntervalMs?: number
  ) {}

  /** Starts a study in `projectDir` (its caches go to the project's cache/). */
  start(projectDir: string, request: FeatureStudyRequest): { jobId: string } {
    const throttle = createProgressThrottle<WorkbenchEvent>(this.emit, this.progressIntervalMs)
    let jobId = ''
    const task = this.supervisor.acquire().startTask('featureStudy', { projectDir, request }, (progress) => {
      const message: WorkbenchEvent = { type: 'features:progress', jobId, progress }
      if (progress.done >= progress.total) throttle.always(message)
      else throttle.progress(message)
    })
    jobId = task.jobId
    this.running.set(jobId, { trainerJobId: task.jobId })
    task.result.then(
      (result) => {
        throttle.always({ type: 'features:done', jobId, result })
        throttle.flush()
      },
      (error: unknown) => {
        throttle.always({ type: 'features:failed', jobId, error: toApiErrorData(error), cancelled: (error as Error)?.name === 'FeatureStudyCancelled' })
        throttle.flush()
      }
    ).finally(() => this.running.delete(jobId))
    return { jobId }
  }

  /** Stops a study between image batches or heads; it ends with `features:failed` (cancelled). */
  cancel(jobId: string): void {
    const job = this.running.get(jobId)
    if (!job) throw new ApiError('not-found', `no running feature study ${jobId}`)
    this.supervisor.current?.cancel(job.trainerJobId)
  }
}
