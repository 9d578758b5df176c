import * as tf from '@tensorflow/tfjs'
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { dirname, extname, join, resolve } from 'node:path'
import type { PreprocessingSpec } from '../../shared/features'
import { checkpointPreprocessing, preprocessingPreset } from '../../shared/features'
import type { CheckpointMeta } from './checkpoint'
import { assignWeightsByName } from './import/assign-weights'
import { PretrainedImportError } from './import/import-error'
import { buildInferredVgg, inferVgg } from './import/infer-vgg'
import { readKerasH5 } from './import/keras-h5'
import { loadTfjsLayersFiles } from './import/tfjs-layers-files'

export { PretrainedImportError } from './import/import-error'

export interface ImportOptions {
  /** Input side when the file does not fix it (a VGG saved without its classifier). Default 224, Keras VGG16's. */
  inputSize?: number
  /** Overrides the preprocessing the importer assumes. */
  preprocessing?: PreprocessingSpec
}

/** A pretrained network ready to serve as a frozen feature extractor. */
export interface ImportedModel {
  model: tf.LayersModel
  format: 'tfjs-layers' | 'keras-h5'
  /** The file read (model.json or the .h5). */
  path: string
  /** e.g. 'vgg16' when recognized as a VGG, else null. */
  architecture: string | null
  /** Square input side the network expects; images are resized to it. */
  inputSize: number
  preprocessing: PreprocessingSpec
  /** The classes its output layer predicts, when the file says (a workbench checkpoint does). */
  classNames: string[] | null
  /** Layers that have outputs to extract, in order (input layer excluded). */
  layerNames: string[]
  notes: string[]
}

const DEFAULT_INPUT_SIZE = 224

/**
 * Imports a pretrained network: a tfjs Layers model (`model.json` + weight shards, or the folder
 * holding them) or a Keras HDF5 file (`.h5`: a full-model or weights-only save, weights matched to
 * layers by name). A VGG is recognized from its Keras layer names (`block1_conv1` …) and rebuilt with
 * the workbench's builder, so keras.applications' VGG16 weights load with or without their top.
 * Keras VGG16 expects 'caffe' preprocessing (BGR, ImageNet mean subtracted), which is the default.
 * @throws PretrainedImportError naming the file and what does not fit
 */
export async function importPretrained(path: string, options: ImportOptions = {}): Promise<ImportedModel> {
  const target = await resolveModelFile(resolve(path))
  return isHdf5Name(target) ? importKerasH5(target, options) : importTfjsLayers(target, options)
}

function isHdf5Name(path: string): boolean {
  return ['.h5', '.hdf5', '.keras'].includes(extname(path).toLowerCase())
}

/** A folder means the model.json (or single .h5) inside it. */
async function resolveModelFile(path: string): Promise<string> {
  if (!existsSync(path)) throw new PretrainedImportError(path, 'no such file or folder')
  if (!(await stat(path)).isDirectory()) return path
  if (existsSync(join(path, 'model.json'))) return join(path, 'model.json')
  throw new PretrainedImportError(path, 'folder holds no model.json; point at a model.json or a Keras .h5 file')
}

async function importKerasH5(path: string, options: ImportOptions): Promise<ImportedModel> {
  if (extname(path).toLowerCase() === '.keras') {
    throw new PretrainedImportError(path, 'is a Keras 3 `.keras` archive; save it as HDF5 (`model.save("m.h5")`) or convert it with tensorflowjs_converter')
  }
  const contents = await readKerasH5(path)
  const notes: string[] = []
  let model: tf.LayersModel
  let architecture: string | null = null
  const vgg = inferVgg(contents.layers, path)
  if (vgg) {
    if (vgg.inputSize !== undefined && options.inputSize !== undefined && options.inputSize !== vgg.inputSize) {
      throw new PretrainedImportError(path, `its classifier fixes the input at ${vgg.inputSize}×${vgg.inputSize}; ${options.inputSize} was asked for`)
    }
    const inputSize = vgg.inputSize ?? options.inputSize ?? DEFAULT_INPUT_SIZE
    if (inputSize % 32 !== 0) throw new PretrainedImportError(path, `input size ${inputSize} is not a multiple of 32 (a VGG pools five times)`)
    model = buildInferredVgg(vgg, inputSize)
    architecture = vgg.arch
    notes.push(`recognized ${vgg.arch} at width ${vgg.width}${vgg.top ? ` with its classifier (${vgg.numClasses} classes)` : ' without its classifier'}`)
    if (vgg.top) notes.push("'predictions' outputs logits (Keras applies a softmax there), so temperatures divide true logits")
  } else if (contents.modelConfig) {
    try {
      model = await tf.models.modelFromJSON({ modelTopology: contents.modelConfig as unknown as tf.io.ModelJSON['modelTopology'] & tf.serialization.ConfigDict })
    } catch (error) {
      throw new PretrainedImportError(path, `its layer names are not a VGG's and tfjs cannot build its model_config: ${(error as Error).message}`)
    }
  } else {
    const names = [...contents.layers.keys()].slice(0, 8).join(', ')
    throw new PretrainedImportError(path, `a weights-only file whose layers (${names}…) are not a VGG's (block1_conv1 …), so there is no architecture to load them into`)
  }
  try {
    const unused = assignWeightsByName(model, contents.layers, path)
    if (unused.length > 0) notes.push(`file layers not used by the model: ${unused.join(', ')}`)
  } catch (error) {
    model.dispose()
    throw error
  }
  const preprocessing = options.preprocessing ?? preprocessingPreset('caffe')
  return finish({ model, format: 'keras-h5', path, architecture, preprocessing, classNames: null, notes }, options)
}

async function importTfjsLayers(path: string, options: ImportOptions): Promise<ImportedModel> {
  const model = await loadTfjsLayersFiles(path)
  const notes: string[] = []
  const meta = await readWorkbenchMeta(join(dirname(path), 'workbench.json'))
  let preprocessing = options.preprocessing
  if (!preprocessing && meta) preprocessing = checkpointPreprocessing(meta.normalization)
  if (!preprocessing) {
    preprocessing = preprocessingPreset('caffe')
    notes.push("no workbench.json beside model.json: assuming Keras VGG preprocessing ('caffe'); choose another if the model was trained differently")
  }
  return finish({ model, format: 'tfjs-layers', path, architecture: meta?.arch ?? null, preprocessing, classNames: meta?.classNames ?? null, notes }, options)
}

async function readWorkbenchMeta(file: string): Promise<CheckpointMeta | undefined> {
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(await readFile(file, 'utf8')) as CheckpointMeta
  } catch (error) {
    throw new PretrainedImportError(file, `cannot read the workbench metadata (${(error as Error).message})`)
  }
}

/** Checks the input shape (square RGB) and lists the extractable layers. */
function finish(partial: Omit<ImportedModel, 'inputSize' | 'layerNames'>, options: ImportOptions): ImportedModel {
  const shape = partial.model.inputs[0].shape
  const [h, w, c] = [shape[1], shape[2], shape[3]]
  const fail = (problem: string): never => {
    partial.model.dispose()
    throw new PretrainedImportError(partial.path, problem)
  }
  if (shape.length !== 4 || c !== 3) fail(`the model takes input of shape [${shape.map((d) => d ?? '?').join(', ')}]; feature extraction needs RGB images [?, height, width, 3]`)
  if (h !== w) fail(`the model takes ${w ?? '?'}×${h ?? '?'} images; only square inputs are supported`)
  const inputSize = h ?? options.inputSize ?? DEFAULT_INPUT_SIZE
  const layerNames = partial.model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name)
  return { ...partial, inputSize, layerNames }
}
