/**
 * Input schemas of the contract's requests. The renderer is not trusted: every input is parsed here
 * before a handler sees it, unknown keys are rejected, and sizes are bounded so one message cannot
 * make the server allocate without limit. Training config values are checked afterwards by
 * `resolveTrainConfig`, the one place that knows their ranges.
 */
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import type { WorkbenchRequestName } from '../../shared/contract'
import { ApiError } from '../../shared/contract-errors'
import { controlCharacterProblem, escapeControlCharacters } from '../../shared/plain-text'
import { TRANSFER_VARIANTS } from '../../shared/transfer'
import { VIZ_KINDS, type VizKind } from '../../shared/viz-calls'

/** A name: one line of plain text (it may reach a generated script's comment, a log line, a terminal). */
const plainText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .superRefine((value, ctx) => {
      const problem = controlCharacterProblem(value)
      if (problem) ctx.addIssue({ code: 'custom', message: `"${escapeControlCharacters(value)}" ${problem}` })
    })

const runId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a run id')
const datasetId = plainText(1, 4096)
const className = plainText(1, 256)

const projectDir = z.strictObject({ dir: plainText(1, 4096), name: plainText(1, 200).optional() })
const groupName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'not a group name')
// Shapes only; planExperiment/validateExperiment check meaning (groups exist, n in range, config values).
const experiment = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'not an experiment id'),
  name: plainText(0, 200),
  dataset: datasetId,
  groups: z.record(groupName, z.array(className).min(1).max(1000)),
  bases: z.array(groupName).max(100),
  transfers: z
    .array(z.strictObject({ from: groupName, to: groupName, variants: z.array(z.enum(TRANSFER_VARIANTS)).min(1).max(4), n: z.array(z.int().min(0).max(100)).min(1).max(100) }))
    .max(100),
  config: z.record(z.string().max(64), z.unknown()),
  // Range checked by planExperiment (one message for every caller).
  repeats: z.int().optional()
})

// The dataset library: a file dialog or a typed path gives an absolute path; a relative one would
// resolve against the server's working folder, which the user never sees.
const absolutePath = z.string().min(1).max(4096).refine((p) => isAbsolute(p), 'must be an absolute path')
const libraryName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'not a dataset name (1–64 letters, digits, ".", "_", "-")')
const libraryJobId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a job id')

const layerName = z.string().min(1).max(64)
const positiveList = (max: number) => z.array(z.number().positive().max(max)).min(1).max(32)
// Shapes and ranges; the study checks meaning (layers exist, a teacher for distillation …) and names what is wrong.
const featureStudy = z.strictObject({
  source: z.string().min(1).max(4096),
  layer: layerName,
  dataset: datasetId,
  classes: z.array(className).min(2).max(1000).optional(),
  shots: z.array(z.int().min(1).max(10_000)).min(1).max(32).optional(),
  testPerClass: z.int().min(1).max(100_000).optional(),
  draws: z.int().min(1).max(100).optional(),
  poolPerClass: z.int().min(1).max(1_000_000).optional(),
  pooling: z.enum(['avg', 'max', 'flatten']).optional(),
  probeLayers: z.array(layerName).max(64).optional(),
  temperatures: positiveList(1000).optional(),
  temperatureMode: z.enum(['head', 'soft-features', 'distill']).optional(),
  teacher: z.string().min(1).max(4096).optional(),
  distillAlpha: z.number().min(0).max(1).optional(),
  probeK: z.int().min(1).max(1_000_000).nullable().optional(),
  head: z.record(z.string().max(64), z.unknown()).optional(),
  preprocessing: z.record(z.string().max(64), z.unknown()).optional(),
  inputSize: z.int().min(32).max(1024).optional(),
  timeFullPass: z.boolean().optional(),
  seed: z.int().min(0).max(2 ** 32 - 1).optional()
})

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
    name: plainText(1, 200).optional()
  }),
  cancelRun: z.strictObject({ runId }),
  resumeRun: z.strictObject({ runId }),
  listRuns: null,
  getRunMetrics: z.strictObject({ runId }),
  getRecentProjects: null,
  createProject: projectDir,
  openProject: projectDir,
  getProject: null,
  saveProjectAs: projectDir,
  closeProject: null,
  planExperiment: z.strictObject({ experiment }),
  saveExperiment: z.strictObject({ experiment }),
  deleteExperiment: z.strictObject({ id: z.string().min(1).max(100) }),
  startSweep: null,
  cancelSweep: null,
  getSweepStatus: null,
  getClusterStatus: null,
  getTransferCurve: z.strictObject({ from: groupName, to: groupName }),
  getSimilarityMatrix: z.strictObject({ n: z.int().min(0).max(100), variant: z.enum(TRANSFER_VARIANTS).optional() }),
  getRunEvaluation: z.strictObject({ runId }),
  deleteRun: z.strictObject({ runId }),
  startFeatureStudy: featureStudy,
  cancelFeatureStudy: z.strictObject({ jobId: z.string().regex(/^[0-9a-f-]{36}$/, 'not a job id') }),
  // The viz engine checks each request's fields and names the one at fault; here: shape and size.
  runViz: z.strictObject({ kind: z.enum(VIZ_KINDS as [VizKind, ...VizKind[]]), request: z.record(z.string().max(64), z.unknown()), png: z.boolean().optional() }).refine(
    (input) => JSON.stringify(input.request).length <= 8_000_000,
    'request is too large'
  ),
  listLibrary: null,
  downloadDataset: z.strictObject({
    dataset: z.enum(['cifar10', 'cifar100']),
    url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    md5: z.string().regex(/^[0-9a-fA-F]{32}$/, 'not an MD5 (32 hexadecimal digits)').optional()
  }),
  importDataset: z.strictObject({ path: absolutePath, name: libraryName.optional() }),
  cancelLibraryJob: z.strictObject({ jobId: libraryJobId }),
  listLibraryJobs: null,
  removeDataset: z.strictObject({ name: libraryName, deleteFiles: z.boolean().optional() })
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
