import type {
  ActivationMaps,
  ActivationsRequest,
  CellImages,
  CellImagesRequest,
  CompareRequest,
  ConfusionMatrix,
  ConfusionRequest,
  FilterGrid,
  FiltersRequest,
  HistogramsRequest,
  LayerComparison,
  ModelComparison,
  Prediction,
  PredictRequest,
  SplitImagesPage,
  SplitImagesRequest,
  TopImages,
  TopImagesRequest,
  VizImageSource,
  VizLayerInfo,
  VizProgress,
  VizRunRef,
  WeightHistogram
} from '../../shared/viz'
import { activationMaps, renderActivationsPng } from './activations'
import { compareLayer, compareModels, renderComparisonPng, transferContextOf } from './compare'
import { filterGrid, filterGridFromKernel, filterGridTitle, kernelChange, renderFilterPng } from './filters'
import { renderHistogramsPng, weightHistogram } from './histograms'
import { InitialKernelCache } from './initial-kernels'
import { imageBytes, readImageDataUrl, readImageFile } from './image-input'
import { rgbDataUrl } from './png'
import { renderCellImagesPng, renderConfusionPng, renderPredictionPng } from './prediction-figures'
import { cellImages, confusionMatrix, predictImage, runPredictions } from './predictions'
import { listVizLayers, resolveVizLayer, RunModelCache, type RunModel } from './run-model'
import { loadRunSplit, type RunSplit } from './run-split'
import { readKernel } from './weights'
import { runTopActivations, topImagesForChannel } from './top-images'
import { renderTopImagesPng, topImagePixels } from './top-images-figure'

/** A result as data for the views, and the same picture as a full-resolution PNG on demand. */
export interface VizResult<T> {
  data: T
  renderPng(): Promise<Buffer>
}

/** Options of the requests that may scan a whole split the first time (top images, confusion). */
export interface VizJobOptions {
  signal?: AbortSignal
  onProgress?: (progress: VizProgress) => void
}

/**
 * Everything the "look inside" views ask for, by run: one object per process (the trainer process
 * in the app, the CLI), holding a small model cache and the last loaded split. Methods take the
 * plain requests of `shared/viz.ts`, so an API handler only validates and forwards.
 */
export class VizService {
  private readonly models: RunModelCache
  private readonly initialKernels: InitialKernelCache
  private split: { key: string; data: Promise<RunSplit> } | undefined

  constructor(options: { modelCapacity?: number } = {}) {
    this.models = new RunModelCache(options.modelCapacity ?? 2)
    this.initialKernels = new InitialKernelCache(options.modelCapacity ?? 2)
  }

  /** Frees the cached models and split. */
  dispose(): void {
    this.models.dispose()
    this.initialKernels.dispose()
    this.split = undefined
  }

  /** The run's weight layers, for layer pickers. */
  layers(ref: VizRunRef): Promise<VizLayerInfo[]> {
    return this.withRun(ref, async (run) => listVizLayers(run.model, run.depth, run.meta.inputSize))
  }

  /** A page of the run's validation (or test) images as thumbnails, to pick one from. */
  splitImages(request: SplitImagesRequest, options: VizJobOptions = {}): Promise<SplitImagesPage> {
    return this.withRun(request, async (run) => {
      const split = request.split ?? 'val'
      const data = await this.loadSplit(run, split, options)
      const offset = Math.max(0, Math.floor(request.offset ?? 0))
      const limit = Math.min(500, Math.max(1, Math.floor(request.limit ?? 48)))
      const positions = Array.from({ length: Math.max(0, Math.min(limit, data.indices.length - offset)) }, (_, i) => offset + i)
      const images = await Promise.all(
        positions.map(async (position) => {
          const index = data.indices[position]
          const label = data.set.labels[index]
          const dataUrl = await rgbDataUrl(imageBytes(data.set, index, data.size), data.size, data.size)
          return { position, index, source: data.set.sources[index] ?? '', label, className: data.classNames[label] ?? String(label), dataUrl }
        })
      )
      return { split, total: data.indices.length, offset, images }
    })
  }

  /** A conv layer's filters, or with `relativeTo: 'init'` what training changed in them (trained − initial kernel). */
  filters(request: FiltersRequest): Promise<VizResult<FilterGrid>> {
    const relativeTo = request.relativeTo
    if (relativeTo !== undefined && relativeTo !== 'init') return Promise.reject(new Error(`relativeTo: '${String(relativeTo)}' is not 'init' (the run's initial weights)`))
    return this.withRun(request, async (run) => {
      const layer = convName(run, request.layer)
      let grid: FilterGrid
      if (relativeTo === 'init') {
        const initial = await this.initialKernels.kernel(request.projectDir, run, layer)
        grid = filterGridFromKernel(layer, kernelChange(layer, await readKernel(run.model, layer), initial), request)
      } else grid = await filterGrid(run.model, layer, request)
      const title = filterGridTitle(run.runId, grid, relativeTo)
      return { data: grid, renderPng: () => renderFilterPng(grid, title) }
    })
  }

  /** Kernel weight histograms of some or all weight layers. */
  histograms(request: HistogramsRequest): Promise<VizResult<WeightHistogram[]>> {
    return this.withRun(request, async (run) => {
      const names = request.layers?.map((l) => resolveVizLayer(run.depth, l).name) ?? listVizLayers(run.model, run.depth, run.meta.inputSize).map((l) => l.name)
      const histograms: WeightHistogram[] = []
      for (const name of names) histograms.push(await weightHistogram(run.model, name, request.bins ?? 50))
      return { data: histograms, renderPng: () => renderHistogramsPng(histograms, `${run.runId} · weight histograms`) }
    })
  }

  /** A conv layer's feature maps for one image. */
  activations(request: ActivationsRequest, options: VizJobOptions = {}): Promise<VizResult<ActivationMaps>> {
    return this.withRun(request, async (run) => {
      const pixels = await this.readImage(run, request.image, options)
      const result = await activationMaps(run.model, run.meta, pixels, convName(run, request.layer), request)
      const title = `${run.runId} · ${result.layer} (${result.label}) · ${result.maps.length} of ${result.channelCount} maps`
      return { data: result, renderPng: () => renderActivationsPng(result, pixels, run.meta.inputSize, title) }
    })
  }

  /** A channel's top images over a split (the whole layer is scanned once and cached under the project's cache/). */
  topImages(request: TopImagesRequest, options: VizJobOptions = {}): Promise<VizResult<TopImages>> {
    return this.withRun(request, async (run) => {
      const k = request.k ?? 9
      const split = request.split ?? 'val'
      const loadSplit = (): Promise<RunSplit> => this.loadSplit(run, split, options)
      const { top } = await runTopActivations(request.projectDir, run, convName(run, request.layer), { split, score: request.score, k, loadSplit, ...options })
      const result = await topImagesForChannel(run.model, run.meta, top, request.channel, k)
      const title = `${run.runId} · ${result.layer} (${result.label}) channel ${result.channel} · top ${result.images.length} of ${result.scanned} ${split} images`
      return { data: result, renderPng: () => renderTopImagesPng(result, topImagePixels(top, request.channel, k), top.index.size, title) }
    })
  }

  /** Per-layer summary of a run against its base (the run's source run unless `baseRunId`). */
  compareSummary(request: CompareRequest): Promise<ModelComparison> {
    return this.withComparison(request, async (base, target) => compareModels(side(base), side(target), target.depth, transferContextOf(target.record)))
  }

  /** One layer of a run beside the same layer of its base, with per-filter change. */
  compareLayer(request: CompareRequest & { layer: string }): Promise<VizResult<LayerComparison>> {
    return this.withComparison(request, async (base, target) => {
      const info = resolveVizLayer(target.depth, request.layer)
      const result = await compareLayer(side(base), side(target), info.name, info.index, transferContextOf(target.record), { mode: request.mode })
      const title = `${info.name} (${result.label}) · ${base.runId} → ${target.runId}`
      return { data: result, renderPng: () => renderComparisonPng(result, title) }
    })
  }

  /** The model's top classes for one image. */
  predict(request: PredictRequest, options: VizJobOptions = {}): Promise<VizResult<Prediction>> {
    return this.withRun(request, async (run) => {
      const pixels = await this.readImage(run, request.image, options)
      const result = await predictImage(run.model, run.meta, pixels, request)
      const title = `${run.runId} · prediction${result.temperature !== 1 ? ` (T=${result.temperature})` : ''}`
      return { data: result, renderPng: () => renderPredictionPng(result, pixels, run.meta.inputSize, title) }
    })
  }

  /** The confusion matrix over a split (predictions computed once per checkpoint and cached). */
  confusion(request: ConfusionRequest, options: VizJobOptions = {}): Promise<VizResult<ConfusionMatrix>> {
    return this.withRun(request, async (run) => {
      const split = request.split ?? 'val'
      const { predictions } = await runPredictions(request.projectDir, run, split, { ...options, loadSplit: () => this.loadSplit(run, split, options) })
      const matrix = confusionMatrix(predictions)
      return { data: matrix, renderPng: () => renderConfusionPng(matrix, `${run.runId} · confusion matrix (${split})`) }
    })
  }

  /** The images of one confusion-matrix cell, most confident first. */
  cellImages(request: CellImagesRequest, options: VizJobOptions = {}): Promise<VizResult<CellImages>> {
    return this.withRun(request, async (run) => {
      const split = request.split ?? 'val'
      const data = await this.loadSplit(run, split, options)
      const { predictions } = await runPredictions(request.projectDir, run, split, { ...options, loadSplit: async () => data })
      const cell = await cellImages(predictions, data, request.trueLabel, request.predictedLabel, request.limit ?? 32)
      const names = predictions.classNames
      const title = `${run.runId} · ${names[cell.trueLabel]} predicted as ${names[cell.predictedLabel]} · ${cell.total} images`
      const pixels = cell.images.map((i) => imageBytes(data.set, i.index, data.size))
      return { data: cell, renderPng: () => renderCellImagesPng(cell, pixels, data.size, title) }
    })
  }

  /** Runs `use` with the run's model leased (so no other request evicts it meanwhile). */
  private async withRun<T>(ref: VizRunRef, use: (run: RunModel) => Promise<T>): Promise<T> {
    const lease = await this.models.acquire(ref.projectDir, ref.runId, ref.checkpoint)
    try {
      return await use(lease.run)
    } finally {
      lease.release()
    }
  }

  private async withComparison<T>(request: CompareRequest, use: (base: RunModel, target: RunModel) => Promise<T>): Promise<T> {
    return this.withRun(request, async (target) => {
      const baseRunId = request.baseRunId ?? target.record.sourceRunId
      if (!baseRunId) throw new Error(`run ${target.runId} was not transferred from another run; name the base run to compare with`)
      return this.withRun({ projectDir: request.projectDir, runId: baseRunId }, (base) => use(base, target))
    })
  }

  /** The run's split, reusing the last one loaded (reading CIFAR or an image folder takes seconds). */
  private loadSplit(run: RunModel, split: 'val' | 'test', options: VizJobOptions): Promise<RunSplit> {
    const key = `${run.checkpointDir}\n${split}`
    if (this.split?.key !== key) {
      const data = loadRunSplit(run.record, run.meta, split, options.onProgress)
      this.split = { key, data }
      // A failed load must not stay cached.
      data.catch(() => {
        if (this.split?.data === data) this.split = undefined
      })
    }
    return this.split.data
  }

  private async readImage(run: RunModel, source: VizImageSource, options: VizJobOptions): Promise<Uint8Array> {
    const size = run.meta.inputSize
    switch (source.kind) {
      case 'file':
        return readImageFile(source.path, size)
      case 'data-url':
        return readImageDataUrl(source.dataUrl, size)
      case 'split': {
        const data = await this.loadSplit(run, source.split, options)
        if (!Number.isInteger(source.position) || source.position < 0 || source.position >= data.indices.length) {
          throw new Error(`image position ${source.position} is outside 0 … ${data.indices.length - 1} of the ${source.split} split`)
        }
        return imageBytes(data.set, data.indices[source.position], data.size)
      }
    }
  }
}

function convName(run: RunModel, layer: string): string {
  return resolveVizLayer(run.depth, layer, { convOnly: true }).name
}

function side(run: RunModel): { runId: string; model: RunModel['model'] } {
  return { runId: run.runId, model: run.model }
}
