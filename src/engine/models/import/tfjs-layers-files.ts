import * as tf from '@tensorflow/tfjs'
import { readFile, realpath, stat } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { PretrainedImportError } from './import-error'
import { isInsideFolder, storedBytes } from '../weights-manifest'

interface ModelJson {
  format?: string
  modelTopology?: object
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
}

/** A weights group of model.json, its shard paths checked and resolved. */
interface CheckedGroup {
  files: string[]
  weights: tf.io.WeightsManifestEntry[]
}


/**
 * Checks every shard of every weights group before a byte is read: its path stays inside the model's
 * folder (no `..`, no absolute path, no link leading out), it is a file, and each group's shards
 * together hold exactly the bytes its weights need. A model.json from elsewhere must not make the
 * importer read (or report the size of) any other file.
 * @throws PretrainedImportError naming model.json or the shard at fault
 */
async function checkShards(modelJsonPath: string, dir: string, weightsManifest: unknown[]): Promise<CheckedGroup[]> {
  const realDir = await realpath(dir)
  const groups: CheckedGroup[] = []
  for (const [g, entry] of weightsManifest.entries()) {
    const group = entry as { paths?: unknown; weights?: unknown }
    if (typeof group !== 'object' || group === null || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new PretrainedImportError(modelJsonPath, `weightsManifest[${g}] lacks its paths or weights list`)
    }
    const files: string[] = []
    let have = 0
    for (const path of group.paths as unknown[]) {
      if (typeof path !== 'string' || path === '' || path.includes('\0')) throw new PretrainedImportError(modelJsonPath, `weightsManifest[${g}].paths lists ${JSON.stringify(path)}, not a shard file name`)
      const file = resolve(dir, path)
      if (isAbsolute(path) || !isInsideFolder(dir, file)) {
        throw new PretrainedImportError(modelJsonPath, `weight shard path "${path}" leads outside the model's folder ${dir}; shards must sit beside model.json`)
      }
      const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new PretrainedImportError(file, `weight shard listed in ${modelJsonPath} is missing`)
        throw new PretrainedImportError(file, `weight shard listed in ${modelJsonPath} cannot be read (${error.message})`)
      })
      if (!info.isFile()) throw new PretrainedImportError(file, `weight shard listed in ${modelJsonPath} is not a file`)
      const real = await realpath(file)
      if (!isInsideFolder(realDir, real)) throw new PretrainedImportError(file, `weight shard listed in ${modelJsonPath} is a link to ${real}, outside the model's folder`)
      files.push(file)
      have += info.size
    }
    let need: number
    try {
      need = (group.weights as tf.io.WeightsManifestEntry[]).reduce((a, w) => a + storedBytes(w), 0)
    } catch (error) {
      throw new PretrainedImportError(modelJsonPath, (error as Error).message)
    }
    if (have !== need) {
      throw new PretrainedImportError(
        modelJsonPath,
        `its weight shards (${(group.paths as string[]).join(', ')}) hold ${have} bytes, but the weights it lists need ${need}: a shard is truncated or belongs to another model`
      )
    }
    groups.push({ files, weights: group.weights as tf.io.WeightsManifestEntry[] })
  }
  return groups
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
  const dir = resolve(dirname(modelJsonPath))
  const groups = await checkShards(modelJsonPath, dir, manifest.weightsManifest)
  const weightSpecs = groups.flatMap((group) => group.weights)
  // Only now, every path inside the folder and every size as the manifest says, are the shards read.
  const buffers = await Promise.all(groups.flatMap((group) => group.files.map((file) => readFile(file))))
  const have = buffers.reduce((a, b) => a + b.byteLength, 0)
  const need = weightSpecs.reduce((a, w) => a + storedBytes(w), 0)
  if (have !== need) throw new PretrainedImportError(modelJsonPath, `its weight shards changed while being read (${have} bytes read, ${need} expected); try again`)
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
