import type * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { checkpointPreprocessing, type PreprocessingSpec } from '../../shared/features'
import { importPretrained } from '../models/pretrained-import'
import { runDir } from '../project/project-store'
import { loadCheckpoint } from '../models/checkpoint'
import { fingerprintModel } from './cache-key'

/** A frozen network to extract features from, with what its input must look like. */
export interface FrozenSource {
  /** As the user named it: a run id, or a model path. */
  label: string
  model: tf.LayersModel
  /** Topology + weights hash: part of every cache key. */
  fingerprint: string
  inputSize: number
  preprocessing: PreprocessingSpec
  /** The classes of its output layer, when known (runs, workbench checkpoints). */
  classNames: string[] | null
  notes: string[]
}

/**
 * Opens a frozen source: a run of the project (its `best/` weights, with the normalization it was
 * trained with) or a pretrained model file (tfjs model.json or Keras .h5). The caller disposes the model.
 * @param preprocessing overrides what the source implies
 */
export async function openFrozenSource(projectDir: string, source: string, options: { preprocessing?: PreprocessingSpec; inputSize?: number } = {}): Promise<FrozenSource> {
  const best = join(runDir(projectDir, source), 'best')
  if (/^[\w.+-]+$/.test(source) && existsSync(join(best, 'model.json'))) {
    const { model, meta } = await loadCheckpoint(best)
    return {
      label: source,
      model,
      fingerprint: await fingerprintModel(model),
      inputSize: meta.inputSize,
      preprocessing: options.preprocessing ?? checkpointPreprocessing(meta.normalization),
      classNames: meta.classNames,
      notes: []
    }
  }
  if (!existsSync(source)) {
    throw new Error(`source '${source}' is neither a run of ${projectDir} with best weights (runs/${source}/best/) nor a model file`)
  }
  const imported = await importPretrained(source, options)
  return {
    label: source,
    model: imported.model,
    fingerprint: await fingerprintModel(imported.model),
    inputSize: imported.inputSize,
    preprocessing: imported.preprocessing,
    classNames: imported.classNames,
    notes: imported.notes
  }
}
