import * as tf from '@tensorflow/tfjs'
import { copyFile, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { EpochMetrics } from '../../shared/metrics'
import { replaceDirAtomic, syncFile, writeInto } from '../project/atomic-files'
import { isInsideFolder, storedBytes } from './weights-manifest'
import { writeTensorsFile } from './tensor-file'

/** What the workbench stores beside a model so it can be used again without guessing. */
export interface CheckpointMeta {
  arch: string
  width: number
  inputSize: number
  classNames: string[]
  /** Per-channel normalization in the 0…1 pixel scale, applied before the network. */
  normalization: { mean: number[]; std: number[] }
  epoch: number
  valAcc: number | null
  /** The epoch's metrics line, so a resume can restore it if the process died before logging it. */
  epochMetrics?: EpochMetrics
}

export const MODEL_FILE = 'model.json'
export const WEIGHTS_FILE = 'weights.bin'
export const META_FILE = 'workbench.json'
export const OPTIMIZER_FILE = 'optimizer.bin'
export const OPTIMIZER_SPEC_FILE = 'optimizer.json'

/** A checkpoint file that is missing, truncated or not what it should be: names the file. */
export class CheckpointError extends Error {
  override name = 'CheckpointError'
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`)
  }
}

/** Reads a checkpoint file (as bytes), turning "missing" or any read error into an error naming it. */
async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (error) {
    throw new CheckpointError(file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (error as Error).message)
  }
}

/** Reads and parses a checkpoint's JSON file; a truncated or garbled one is an error naming it. */
async function readJson(file: string): Promise<unknown> {
  const text = (await readBytes(file)).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new CheckpointError(file, `not valid JSON (${text.length} bytes; ${(error as Error).message}): truncated or damaged`)
  }
}

/**
 * How many bytes the weights of a manifest group take, from their shapes and dtypes.
 * @throws CheckpointError (naming `file`) for a spec tfjs could not read either
 */
export function expectedWeightBytes(specs: readonly tf.io.WeightsManifestEntry[], file: string): number {
  try {
    return specs.reduce((total, spec) => total + storedBytes(spec), 0)
  } catch (error) {
    throw new CheckpointError(file, (error as Error).message)
  }
}

/** Checks that the files hold exactly the bytes the specs need: a truncated or padded shard is named with both counts. */
function checkBytes(files: readonly string[], sizes: readonly number[], expected: number, what: string): void {
  const actual = sizes.reduce((a, b) => a + b, 0)
  if (actual === expected) return
  const name = files.length === 1 ? (files[0] as string) : `${files.join(', ')} (together)`
  throw new CheckpointError(name, `${what}: expected ${expected} bytes, found ${actual}${actual < expected ? ' (truncated)' : ''}`)
}

/** Concatenates ArrayBuffer pieces (tfjs may hand weights over as several buffers). */
function toBytes(data: ArrayBuffer | (ArrayBuffer | Uint8Array)[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part instanceof Uint8Array ? part : new Uint8Array(part), offset)
    offset += part.byteLength
  }
  return out
}

/**
 * Saves a model in the tfjs Layers format (`model.json` + `weights.bin`, loadable by
 * `tf.loadLayersModel`) with the workbench's metadata, optionally with optimizer state, replacing
 * the folder atomically.
 */
export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  meta: CheckpointMeta,
  optimizer?: tf.Optimizer
): Promise<void> {
  const modelTopology = model.toJSON(null, false) as object
  await replaceDirAtomic(dir, async (temp) => {
    // The weights straight from the backend, as LayersModel.save would store them (by original name).
    const specs = await writeTensorsFile(temp, WEIGHTS_FILE, model.weights.map((w) => ({ name: w.originalName, tensor: w.read() })))
    const manifest = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: 'Transfer Workbench',
      modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }]
    }
    await writeInto(temp, MODEL_FILE, JSON.stringify(manifest))
    await writeInto(temp, META_FILE, `${JSON.stringify(meta, null, 2)}\n`)
    if (optimizer) {
      // The iteration count comes as a new tensor; the rest are the optimizer's own variables.
      const state = await optimizer.getWeights()
      try {
        await writeInto(temp, OPTIMIZER_SPEC_FILE, JSON.stringify(await writeTensorsFile(temp, OPTIMIZER_FILE, state)))
      } finally {
        state.filter((w) => w.name === 'iter').forEach((w) => w.tensor.dispose())
      }
    }
  })
}

interface LayersManifest {
  modelTopology: object
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
}

/** Reads model.json and checks its shape: the topology, and weight groups whose files stay inside the folder. */
async function readModelManifest(dir: string): Promise<LayersManifest> {
  const file = join(dir, MODEL_FILE)
  const manifest = (await readJson(file)) as Partial<LayersManifest> | null
  if (typeof manifest !== 'object' || manifest === null || typeof manifest.modelTopology !== 'object' || manifest.modelTopology === null) {
    throw new CheckpointError(file, 'no modelTopology: not a tfjs Layers model')
  }
  const groups = manifest.weightsManifest
  if (!Array.isArray(groups) || groups.some((g) => !Array.isArray(g?.paths) || !Array.isArray(g?.weights))) {
    throw new CheckpointError(file, 'weightsManifest is missing or malformed')
  }
  for (const path of groups.flatMap((g) => g.paths)) {
    if (typeof path !== 'string' || !isInsideFolder(dir, join(dir, path))) throw new CheckpointError(file, `weights path ${JSON.stringify(path)} leads outside the checkpoint folder`)
  }
  return manifest as LayersManifest
}

/**
 * Loads a checkpoint saved by saveCheckpoint (or any tfjs Layers model whose weight files sit in its
 * folder). Every file is checked before tfjs sees it: model.json and workbench.json must parse, and
 * each weight group's files must hold exactly the bytes its specs need.
 * @throws CheckpointError naming the file (and the expected and actual bytes) when anything is off
 */
export async function loadCheckpoint(dir: string): Promise<{ model: tf.LayersModel; meta: CheckpointMeta }> {
  const manifest = await readModelManifest(dir)
  const meta = await readCheckpointMeta(dir)
  const weightSpecs = manifest.weightsManifest.flatMap((group) => group.weights)
  const buffers: Buffer[] = []
  for (const group of manifest.weightsManifest) {
    const files = group.paths.map((p) => join(dir, p))
    const parts = await Promise.all(files.map(readBytes))
    checkBytes(files, parts.map((b) => b.byteLength), expectedWeightBytes(group.weights, join(dir, MODEL_FILE)), `the weights ${MODEL_FILE} lists`)
    buffers.push(...parts)
  }
  const weightData = toBytes(buffers)
  let model: tf.LayersModel
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs, weightData: weightData.buffer as ArrayBuffer }))
  } catch (error) {
    throw new CheckpointError(join(dir, MODEL_FILE), `tfjs cannot build the model: ${(error as Error).message}`)
  }
  return { model, meta }
}

/**
 * Checks a checkpoint's files without building the model: model.json and workbench.json parse, and
 * the weight files hold the bytes model.json lists. Returns the problem (naming the file), or undefined.
 */
export async function checkpointProblem(dir: string): Promise<string | undefined> {
  try {
    const manifest = await readModelManifest(dir)
    await readCheckpointMeta(dir)
    for (const group of manifest.weightsManifest) {
      const files = group.paths.map((p) => join(dir, p))
      const sizes = await Promise.all(files.map((f) => stat(f).then((info) => info.size, () => Promise.reject(new CheckpointError(f, 'missing')))))
      checkBytes(files, sizes, expectedWeightBytes(group.weights, join(dir, MODEL_FILE)), `the weights ${MODEL_FILE} lists`)
    }
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/**
 * Reads only a checkpoint's metadata.
 * @throws CheckpointError naming workbench.json when it is missing, garbled or lacks the epoch
 */
export async function readCheckpointMeta(dir: string): Promise<CheckpointMeta> {
  const file = join(dir, META_FILE)
  const meta = (await readJson(file)) as Partial<CheckpointMeta> | null
  if (typeof meta !== 'object' || meta === null || typeof meta.epoch !== 'number' || !Array.isArray(meta.classNames)) {
    throw new CheckpointError(file, 'epoch or classNames is missing: not a workbench checkpoint')
  }
  return meta as CheckpointMeta
}

/** Copies a checkpoint's model files (not its optimizer state) to another folder, atomically and synced. */
export async function copyCheckpoint(fromDir: string, toDir: string): Promise<void> {
  await replaceDirAtomic(toDir, async (temp) => {
    for (const file of [MODEL_FILE, WEIGHTS_FILE, META_FILE]) {
      await copyFile(join(fromDir, file), join(temp, file))
      await syncFile(join(temp, file))
    }
  })
}

/**
 * Why `from`'s weights cannot be copied into `to` (a layer missing or of another shape), or undefined
 * when copyWeights will succeed: checked first, so a failed copy never leaves `to` half overwritten.
 */
export function weightsMismatch(from: tf.LayersModel, to: tf.LayersModel): string | undefined {
  const names = new Set(from.layers.map((l) => l.name))
  for (const layer of to.layers) {
    if (layer.weights.length === 0) continue
    if (!names.has(layer.name)) return `it has no layer ${layer.name}`
    const theirs = from.getLayer(layer.name).weights
    if (theirs.length !== layer.weights.length) return `layer ${layer.name} has ${theirs.length} weights, this model ${layer.weights.length}`
    for (const [i, w] of layer.weights.entries()) {
      const shape = theirs[i]?.shape ?? []
      if (shape.join('×') !== w.shape.join('×')) return `${w.name} is ${shape.join('×')}, this model needs ${w.shape.join('×')}`
    }
  }
  return undefined
}

/** Copies every layer's weights by layer name (models of the same architecture). */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  for (const layer of to.layers) {
    if (layer.weights.length === 0) continue
    layer.setWeights(from.getLayer(layer.name).getWeights())
  }
}

/**
 * Restores optimizer state saved with a checkpoint (momentum buffers, iteration count). Both files are
 * checked before the optimizer is touched.
 * @throws CheckpointError naming optimizer.json or optimizer.bin (with expected and actual bytes)
 */
export async function loadOptimizerInto(dir: string, optimizer: tf.Optimizer): Promise<void> {
  const specFile = join(dir, OPTIMIZER_SPEC_FILE)
  const specs = (await readJson(specFile)) as tf.io.WeightsManifestEntry[]
  if (!Array.isArray(specs) || specs.some((s) => typeof s?.name !== 'string')) throw new CheckpointError(specFile, 'not a list of optimizer weights')
  const file = join(dir, OPTIMIZER_FILE)
  const bytes = await readBytes(file)
  checkBytes([file], [bytes.byteLength], expectedWeightBytes(specs, specFile), `the optimizer state ${OPTIMIZER_SPEC_FILE} lists`)
  const tensors = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs)
  try {
    await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: tensors[s.name] as tf.Tensor })))
  } finally {
    // setWeights copies into its own variables; the decoded tensors are ours to free.
    tf.dispose(Object.values(tensors))
  }
}
