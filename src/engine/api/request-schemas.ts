/**
 * Input schemas of the contract's requests. The renderer is not trusted: every input is parsed here
 * before a handler sees it, unknown keys are rejected, and sizes are bounded so one message cannot
 * make the server allocate without limit. Training config values are checked afterwards by
 * `resolveTrainConfig`, the one place that knows their ranges.
 */
import { z } from 'zod'
import type { WorkbenchRequestName } from '../../shared/contract'
import { ApiError } from '../../shared/contract-errors'

const runId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a run id')
const datasetId = z.string().min(1).max(4096)
const className = z.string().min(1).max(256)

/** Per request: the schema of its one input object, or null for requests that take none. */
export const REQUEST_SCHEMAS = {
  getAppInfo: null,
  getEngineStatus: null,
  listDatasets: null,
  inspectDataset: z.strictObject({ id: datasetId, samplesPerClass: z.int().min(1).max(16).optional() }),
  startRun: z.strictObject({
    dataset: datasetId,
    classes: z.array(className).min(1).max(1000).optional(),
    config: z.record(z.string().max(64), z.unknown()).optional(),
    name: z.string().min(1).max(200).optional()
  }),
  cancelRun: z.strictObject({ runId }),
  resumeRun: z.strictObject({ runId }),
  listRuns: null,
  getRunMetrics: z.strictObject({ runId }),
  getRecentProjects: null
} satisfies Record<WorkbenchRequestName, z.ZodType | null>

/**
 * Checks a request's argument list: none for a request without input, else exactly one object that
 * its schema accepts. Throws a ZodError or ApiError (both become an 'invalid-request' ApiError).
 * @returns the arguments to call the handler with
 */
export function parseRequestArgs(name: WorkbenchRequestName, args: unknown[]): unknown[] {
  const schema = REQUEST_SCHEMAS[name]
  if (schema === null) {
    if (args.length > 0) throw new ApiError('invalid-request', `${name} takes no input`)
    return []
  }
  if (args.length !== 1) throw new ApiError('invalid-request', `${name} takes one input object, got ${args.length} arguments`)
  return [schema.parse(args[0])]
}
