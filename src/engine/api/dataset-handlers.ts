import type { DatasetDetails, DatasetSummary, InspectDatasetInput } from '../../shared/contract'
import type { SplitName } from '../data/dataset'
import { scanImageFolder } from '../data/image-folder'
import { discoverDatasets, loadDataset, parseDatasetId } from '../data/load-dataset'
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
  const classes = await sampleClasses(dataset, samplesPerClass)
  const counts = await countFolderImages(id)
  return {
    id: dataset.id,
    name: dataset.name,
    width: dataset.width,
    height: dataset.height,
    classes: counts ? classes.map((c) => ({ ...c, counts: counts.get(c.name) ?? { train: 0, test: 0 } })) : classes,
    splits: (['train', 'test'] as SplitName[]).filter((s) => dataset.splits[s] !== undefined),
    skipped: dataset.skipped
  }
}

/**
 * Images per class and split of an image-folder dataset, from a listing of its files (nothing is
 * decoded; unreadable files count until a read skips them). Null for other kinds: CIFAR's counts come
 * from the library, the demo's are fixed.
 */
async function countFolderImages(id: string): Promise<Map<string, { train: number; test: number }> | null> {
  const ref = parseDatasetId(id)
  if (ref.kind !== 'folder' || !ref.dir) return null
  const scan = await scanImageFolder(ref.dir)
  const counts = new Map<string, { train: number; test: number }>()
  for (const { split, classes } of scan.splits) {
    for (const c of classes) {
      const entry = counts.get(c.name) ?? { train: 0, test: 0 }
      entry[split] += c.files.length
      counts.set(c.name, entry)
    }
  }
  return counts
}
