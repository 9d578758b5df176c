/** The error a cancelled feature study rejects with. */
export class FeatureStudyCancelled extends Error {
  override name = 'FeatureStudyCancelled'
  constructor() {
    super('feature study cancelled')
  }
}

/**
 * Lets pending messages through (a cancel among them: studies run in the trainer process, whose
 * messages arrive on the event loop), then throws if the study was cancelled.
 */
export async function checkCancelled(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve))
  if (signal?.aborted) throw new FeatureStudyCancelled()
}
