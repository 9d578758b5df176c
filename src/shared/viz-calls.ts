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
  VizLayerInfo,
  VizRunRef,
  WeightHistogram
} from './viz'

/** A request as the UI sends it: the server fills in the open project's folder. */
type InProject<T> = Omit<T, 'projectDir'>

/** The "look inside" requests by kind: [what the UI sends, what it gets back]. */
export interface VizCalls {
  layers: [InProject<VizRunRef>, VizLayerInfo[]]
  splitImages: [InProject<SplitImagesRequest>, SplitImagesPage]
  filters: [InProject<FiltersRequest>, FilterGrid]
  histograms: [InProject<HistogramsRequest>, WeightHistogram[]]
  activations: [InProject<ActivationsRequest>, ActivationMaps]
  topImages: [InProject<TopImagesRequest>, TopImages]
  compareSummary: [InProject<CompareRequest>, ModelComparison]
  compareLayer: [InProject<CompareRequest> & { layer: string }, LayerComparison]
  predict: [InProject<PredictRequest>, Prediction]
  confusion: [InProject<ConfusionRequest>, ConfusionMatrix]
  cellImages: [InProject<CellImagesRequest>, CellImages]
}

export type VizKind = keyof VizCalls

export const VIZ_KINDS: readonly VizKind[] = [
  'layers', 'splitImages', 'filters', 'histograms', 'activations', 'topImages', 'compareSummary', 'compareLayer', 'predict', 'confusion', 'cellImages'
]

/** Kinds that also come as a picture (the rest are lists and summaries). */
export const VIZ_PICTURE_KINDS: readonly VizKind[] = ['filters', 'histograms', 'activations', 'topImages', 'compareLayer', 'predict', 'confusion', 'cellImages']

export interface VizInput<K extends VizKind = VizKind> {
  kind: K
  request: VizCalls[K][0]
  /** Also render the full-resolution PNG (for export), as a `data:image/png;base64,…` URL. */
  png?: boolean
}

export interface VizOutput<K extends VizKind = VizKind> {
  data: VizCalls[K][1]
  png: string | null
}
