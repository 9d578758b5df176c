/**
 * The feature-study form as plain data: a draft the view edits, checked and turned into the
 * `startFeatureStudy` request. No Vue here, so it is tested on its own.
 */
import { preprocessingPreset, type FeaturePooling, type FeatureStudyRequest, type PreprocessingPreset, type TemperatureMode } from '../../../shared/features'
import type { Experiment, RunRecord } from '../../../shared/project'
import type { VizLayerInfo } from '../../../shared/viz'

export type SourceKind = 'run' | 'file'

/** What the form holds (text fields stay text until the request is built, so typing is never fought). */
export interface FeatureDraft {
  sourceKind: SourceKind
  runId: string
  /** A tfjs model.json or Keras .h5 path. */
  modelPath: string
  layer: string
  dataset: string
  /** Comma-separated class names; empty means every class of the dataset. */
  classes: string
  shots: string
  /** Test images per class: a whole number, or 'all' (or empty) for every test image of the classes. */
  testPerClass: string
  draws: number
  pooling: FeaturePooling
  probeLayers: string[]
  /** Comma-separated temperatures; empty skips the temperature study. */
  temperatures: string
  temperatureMode: TemperatureMode
  /** Teacher for 'distill': a run id or a model file path. */
  teacher: string
  /** For model files (runs carry their own normalization). */
  preprocessing: PreprocessingPreset
  /** Input side for a model file that does not fix it; null lets the engine decide. */
  inputSize: number | null
  timeFullPass: boolean
}

/** The form's starting values (the seed report's study: k = 2…16, 3 draws, T = 1…16; every test image, so accuracies can be ranked). */
export function createFeatureDraft(): FeatureDraft {
  return {
    sourceKind: 'run',
    runId: '',
    modelPath: '',
    layer: '',
    dataset: 'demo',
    classes: '',
    shots: '2, 4, 8, 16',
    testPerClass: 'all',
    draws: 3,
    pooling: 'avg',
    probeLayers: [],
    temperatures: '1, 2, 4, 8, 16',
    temperatureMode: 'head',
    teacher: '',
    preprocessing: 'caffe',
    inputSize: null,
    timeFullPass: true
  }
}

export const POOLINGS: readonly { value: FeaturePooling; label: string }[] = [
  { value: 'avg', label: 'Average over positions' },
  { value: 'max', label: 'Maximum over positions' },
  { value: 'flatten', label: 'Flatten (all positions)' }
]

export const TEMPERATURE_MODES: readonly { value: TemperatureMode; label: string }[] = [
  { value: 'head', label: 'Head on logits / T' },
  { value: 'soft-features', label: 'Soft features: softmax(source logits / T)' },
  { value: 'distill', label: 'Distillation from a teacher' }
]

export const PRESETS: readonly { value: PreprocessingPreset; label: string }[] = [
  { value: 'caffe', label: 'caffe: BGR, ImageNet mean (Keras VGG16)' },
  { value: 'tf', label: 'tf: scaled to −1…1' },
  { value: 'torch', label: 'torch: ImageNet mean and std' },
  { value: 'unit', label: 'unit: 0…1' }
]

/** The spec of a named preset (the engine's own table, from shared). */
export const presetSpec = preprocessingPreset

/** A comma- or space-separated list of positive numbers; `integers` refuses fractions. */
export function parseNumberList(text: string, what: string, integers: boolean): { values: number[]; error: string | null } {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
  const values: number[] = []
  for (const part of parts) {
    const value = Number(part)
    if (!Number.isFinite(value) || value <= 0 || (integers && !Number.isInteger(value))) {
      return { values: [], error: `${what}: '${part}' is not a positive ${integers ? 'whole number' : 'number'}` }
    }
    values.push(value)
  }
  return { values: [...new Set(values)].sort((a, b) => a - b), error: null }
}

/** Class names from a comma-separated list, trimmed, without repeats. */
export function parseClasses(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c !== '')
    )
  ]
}

/** The request the draft describes, or the problems that keep it from running (in words, one per field). */
export function buildFeatureRequest(draft: FeatureDraft): { request: FeatureStudyRequest | null; errors: string[] } {
  const errors: string[] = []
  const source = draft.sourceKind === 'run' ? draft.runId : draft.modelPath.trim()
  if (!source) errors.push(draft.sourceKind === 'run' ? 'Pick a base run.' : 'Enter a model file (model.json or .h5).')
  if (!draft.layer.trim()) errors.push('Pick the layer whose features the heads learn from.')
  if (!draft.dataset) errors.push('Pick a dataset.')
  const classes = parseClasses(draft.classes)
  if (classes.length === 1) errors.push('Classes: a study needs at least two classes (or leave empty for all).')
  const shots = parseNumberList(draft.shots, 'Shots', true)
  if (shots.error) errors.push(shots.error)
  else if (shots.values.length === 0) errors.push('Shots: give at least one k.')
  const temperatures = parseNumberList(draft.temperatures, 'Temperatures', false)
  if (temperatures.error) errors.push(temperatures.error)
  const testPerClass = parseTestPerClass(draft.testPerClass)
  if (testPerClass === 'invalid') errors.push(`Test images per class: '${draft.testPerClass}' is neither a whole number of at least 1 nor 'all'.`)
  if (!Number.isInteger(draft.draws) || draft.draws < 1) errors.push('Draws: a whole number of at least 1.')
  if (temperatures.values.length > 0 && draft.temperatureMode === 'distill' && !draft.teacher.trim()) errors.push('Distillation needs a teacher.')
  if (draft.sourceKind === 'file' && draft.inputSize !== null && (!Number.isInteger(draft.inputSize) || draft.inputSize < 32 || draft.inputSize > 1024)) {
    errors.push('Input size: a whole number from 32 to 1024.')
  }
  if (errors.length > 0) return { request: null, errors }

  const request: FeatureStudyRequest = {
    source,
    layer: draft.layer.trim(),
    dataset: draft.dataset,
    shots: shots.values,
    draws: draft.draws,
    pooling: draft.pooling,
    timeFullPass: draft.timeFullPass
  }
  if (classes.length > 0) request.classes = classes
  if (typeof testPerClass === 'number') request.testPerClass = testPerClass // left out: every test image
  const probes = draft.probeLayers.filter((l) => l.trim() !== '')
  if (probes.length > 0) request.probeLayers = probes
  if (temperatures.values.length > 0) {
    request.temperatures = temperatures.values
    request.temperatureMode = draft.temperatureMode
    if (draft.temperatureMode === 'distill') request.teacher = draft.teacher.trim()
  }
  if (draft.sourceKind === 'file') {
    request.preprocessing = presetSpec(draft.preprocessing)
    if (draft.inputSize !== null) request.inputSize = draft.inputSize
  }
  return { request, errors: [] }
}

/** Runs that can be a frozen source: finished runs (base runs first, then transfers). */
export function sourceRuns(runs: readonly RunRecord[]): RunRecord[] {
  const done = runs.filter((r) => r.status === 'done')
  return [...done.filter((r) => r.kind === 'base'), ...done.filter((r) => r.kind !== 'base')]
}

/** A class set the form offers: one group of an experiment of the project. */
export interface ClassSet {
  key: string
  label: string
  dataset: string
  classes: string[]
}

/** Every group of every experiment, in the project's order. */
export function classSets(experiments: readonly Experiment[]): ClassSet[] {
  return experiments.flatMap((e) =>
    Object.entries(e.groups)
      .filter(([, classes]) => classes.length >= 2)
      .map(([group, classes]) => ({ key: `${e.id}/${group}`, label: `${e.name} · group ${group} (${classes.join(', ')})`, dataset: e.dataset, classes: [...classes] }))
  )
}

/**
 * The class set a study on `run` most likely wants: another group of the run's experiment (features
 * learnt on A, heads on B), else the run's own classes.
 */
export function suggestedClassSet(run: RunRecord, experiments: readonly Experiment[]): { dataset: string; classes: string[] } {
  const experiment = experiments.find((e) => e.id === run.experimentId)
  const other = experiment ? Object.entries(experiment.groups).find(([group, classes]) => group !== run.to && classes.length >= 2) : undefined
  return other ? { dataset: experiment!.dataset, classes: [...other[1]] } : { dataset: run.dataset, classes: [...run.classes] }
}

/** The default feature layer: the first dense layer (the seed's fc1), else the last conv. */
export function defaultFeatureLayer(layers: readonly VizLayerInfo[]): string {
  return layers.find((l) => l.kind === 'dense')?.name ?? layers.filter((l) => l.kind === 'conv').at(-1)?.name ?? ''
}

/** The last conv of each block (`block1_conv2`, `block2_conv2` …): the usual layer probes. */
export function blockEndLayers(layers: readonly VizLayerInfo[]): string[] {
  const ends = new Map<string, string>()
  for (const layer of layers) {
    const match = /^(block\d+)_/.exec(layer.name)
    if (layer.kind === 'conv' && match) ends.set(match[1] as string, layer.name)
  }
  return [...ends.values()]
}

/** 'all' or empty: every test image (undefined); otherwise a whole number ≥ 1, or 'invalid'. */
export function parseTestPerClass(text: string | number): number | undefined | 'invalid' {
  const trimmed = String(text).trim().toLowerCase()
  if (trimmed === '' || trimmed === 'all') return undefined
  const n = Number(trimmed)
  return Number.isInteger(n) && n >= 1 ? n : 'invalid'
}
