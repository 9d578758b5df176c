import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { PretrainedImportError } from './import-error'

interface ModelJson {
  format?: string
  modelTopology?: object
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 }

/** Bytes a manifest entry occupies in its shard (quantized weights are stored at their quantized size). */
function storedBytes(entry: tf.io.WeightsManifestEntry): number {
  const count = entry.shape.reduce((a, b) => a * b, 1)
  const dtype = entry.quantization?.dtype ?? entry.dtype
  const bytes = DTYPE_BYTES[dtype]
  if (bytes === undefined) throw new Error(`weight '${entry.name}' has unsupported dtype ${dtype}`)
  return count * bytes
}

/**
 * Loads a tfjs Layers model from `model.json` and its weight shards (any number, paths relative to
 * the manifest), checking first that every shard exists and the bytes add up, so a broken download
 * gets an error naming the file rather than a failure deep inside tfjs.
 * @throws PretrainedImportError naming model.json or the shard at fault
 */
export async function loadTfjsLayersFiles(modelJsonPath: string): Promise<tf.LayersModel> {
  let manifest: ModelJson
  try {
    manifest = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson
  } catch (error) {
    throw new PretrainedImportError(modelJsonPath, `cannot read as JSON (${(error as Error).message})`)
  }
  if (manifest.format === 'graph-model') {
    throw new PretrainedImportError(modelJsonPath, 'is a tfjs graph model (from a SavedModel); only Layers models (converted from Keras) have named layers to extract features from')
  }
  if (!manifest.modelTopology || !Array.isArray(manifest.weightsManifest)) {
    throw new PretrainedImportError(modelJsonPath, 'has no modelTopology or weightsManifest: not a tfjs Layers model.json')
  }
  const dir = dirname(modelJsonPath)
  const weightSpecs = manifest.weightsManifest.flatMap((group) => group.weights)
  const paths = manifest.weightsManifest.flatMap((group) => group.paths)
  for (const path of paths) {
    if (!existsSync(join(dir, path))) throw new PretrainedImportError(join(dir, path), `weight shard listed in ${modelJsonPath} is missing`)
  }
  const buffers = await Promise.all(paths.map((p) => readFile(join(dir, p))))
  const have = buffers.reduce((a, b) => a + b.byteLength, 0)
  let need: number
  try {
    need = weightSpecs.reduce((a, w) => a + storedBytes(w), 0)
  } catch (error) {
    throw new PretrainedImportError(modelJsonPath, (error as Error).message)
  }
  if (have !== need) {
    throw new PretrainedImportError(modelJsonPath, `its weight shards (${paths.join(', ')}) hold ${have} bytes, but the weights it lists need ${need}: a shard is truncated or belongs to another model`)
  }
  const weightData = new Uint8Array(have)
  let offset = 0
  for (const buffer of buffers) {
    weightData.set(buffer, offset)
    offset += buffer.byteLength
  }
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs, weightData: weightData.buffer }))
  } catch (error) {
    throw new PretrainedImportError(modelJsonPath, `tfjs cannot build this model: ${(error as Error).message}`)
  }
}
