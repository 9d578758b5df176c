import type { DatasetDetails, DatasetSummary, InspectDatasetInput } from '../../shared/contract'
import type { SplitName } from '../data/dataset'
import { discoverDatasets, loadDataset } from '../data/load-dataset'
import { sampleClasses } from './dataset-thumbnails'

/** The datasets the workbench knows: the built-in demo and those found in `dirs`. */
export async function listDatasets(dirs: string[]): Promise<DatasetSummary[]> {
  const found = await discoverDatasets(dirs)
  return found.map((d) => ({ id: d.id, kind: d.kind, name: d.name, location: d.location, classNames: d.classNames }))
}

/**
 * Classes of a dataset with a few sample thumbnails each. Reads only `samplesPerClass` images per
 * class and split (readers skip decoding the rest), so inspecting CIFAR-10 or a large folder is quick
 * and never holds the whole dataset; unreadable files are listed, not fatal.
 */
export async function inspectDataset({ id, samplesPerClass = 4 }: InspectDatasetInput): Promise<DatasetDetails> {
  const dataset = await loadDataset(id, { maxPerClass: { train: samplesPerClass, test: samplesPerClass }, onUnreadable: 'skip' })
  return {
    id: dataset.id,
    name: dataset.name,
    width: dataset.width,
    height: dataset.height,
    classes: await sampleClasses(dataset, samplesPerClass),
    splits: (['train', 'test'] as SplitName[]).filter((s) => dataset.splits[s] !== undefined),
    skipped: dataset.skipped
  }
}
