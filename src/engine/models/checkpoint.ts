import * as tf from '@tensorflow/tfjs'
import { copyFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EpochMetrics } from '../../shared/metrics'
import { replaceDirAtomic, writeInto } from '../project/atomic-files'

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
const OPTIMIZER_FILE = 'optimizer.bin'
const OPTIMIZER_SPEC_FILE = 'optimizer.json'

/** Concatenates ArrayBuffer pieces (tfjs may hand weights over as several buffers). */
function toBytes(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    out.set(new Uint8Array(part), offset)
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
  let artifacts: tf.io.ModelArtifacts | undefined
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    })
  )
  if (!artifacts?.weightSpecs || !artifacts.weightData) throw new Error('model produced no weights to save')
  const saved = artifacts
  const optimizerState = optimizer ? await encodeOptimizer(optimizer) : undefined
  await replaceDirAtomic(dir, async (temp) => {
    const manifest = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: 'Transfer Workbench',
      modelTopology: saved.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }]
    }
    await writeInto(temp, MODEL_FILE, JSON.stringify(manifest))
    await writeInto(temp, WEIGHTS_FILE, toBytes(saved.weightData as ArrayBuffer | ArrayBuffer[]))
    await writeInto(temp, META_FILE, `${JSON.stringify(meta, null, 2)}\n`)
    if (optimizerState) {
      await writeInto(temp, OPTIMIZER_SPEC_FILE, JSON.stringify(optimizerState.specs))
      await writeInto(temp, OPTIMIZER_FILE, optimizerState.data)
    }
  })
}

async function encodeOptimizer(optimizer: tf.Optimizer): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array }> {
  const weights = await optimizer.getWeights()
  const encoded = await tf.io.encodeWeights(weights)
  return { specs: encoded.specs, data: toBytes(encoded.data) }
}

/** Loads a checkpoint saved by saveCheckpoint (or any tfjs Layers model with one weights file). */
export async function loadCheckpoint(dir: string): Promise<{ model: tf.LayersModel; meta: CheckpointMeta }> {
  const manifest = JSON.parse(await readFile(join(dir, MODEL_FILE), 'utf8')) as {
    modelTopology: object
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
  }
  const weightSpecs = manifest.weightsManifest.flatMap((group) => group.weights)
  const buffers = await Promise.all(manifest.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dir, p))))
  const weightData = toBytes(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer))
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs, weightData: weightData.buffer as ArrayBuffer })
  )
  return { model, meta: await readCheckpointMeta(dir) }
}

/** Reads only a checkpoint's metadata. */
export async function readCheckpointMeta(dir: string): Promise<CheckpointMeta> {
  return JSON.parse(await readFile(join(dir, META_FILE), 'utf8')) as CheckpointMeta
}

/** Copies a checkpoint's model files (not its optimizer state) to another folder, atomically. */
export async function copyCheckpoint(fromDir: string, toDir: string): Promise<void> {
  await replaceDirAtomic(toDir, async (temp) => {
    for (const file of [MODEL_FILE, WEIGHTS_FILE, META_FILE]) await copyFile(join(fromDir, file), join(temp, file))
  })
}

/** Copies every layer's weights by layer name (models of the same architecture). */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  for (const layer of to.layers) {
    if (layer.weights.length === 0) continue
    layer.setWeights(from.getLayer(layer.name).getWeights())
  }
}

/** Restores optimizer state saved with a checkpoint (momentum buffers, iteration count). */
export async function loadOptimizerInto(dir: string, optimizer: tf.Optimizer): Promise<void> {
  const specs = JSON.parse(await readFile(join(dir, OPTIMIZER_SPEC_FILE), 'utf8')) as tf.io.WeightsManifestEntry[]
  const bytes = await readFile(join(dir, OPTIMIZER_FILE))
  const tensors = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs)
  await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: tensors[s.name] })))
  // setWeights copies into its own variables; the decoded tensors are ours to free.
  tf.dispose(Object.values(tensors))
}
