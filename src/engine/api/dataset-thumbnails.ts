import sharp from 'sharp'
import type { DatasetClassDetails, DatasetSample } from '../../shared/contract'
import type { ImageDataset, ImageSet, SplitName } from '../data/dataset'

/** Encodes one HWC RGB image of a set as a PNG data URL (a few hundred bytes at 32×32). */
export async function encodeSampleDataUrl(set: ImageSet, index: number, width: number, height: number): Promise<string> {
  const bytes = width * height * 3
  const pixels = Buffer.from(set.images.buffer, set.images.byteOffset + index * bytes, bytes)
  const png = await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer()
  return `data:image/png;base64,${png.toString('base64')}`
}

/**
 * Picks up to `perClass` samples of every class (train split first, then test) and encodes them.
 * The dataset was read with a per-class cap, so this walks only a few images.
 */
export async function sampleClasses(dataset: ImageDataset, perClass: number): Promise<DatasetClassDetails[]> {
  const classes: DatasetClassDetails[] = dataset.classNames.map((name, label) => ({ name, label, samples: [] }))
  for (const split of ['train', 'test'] as SplitName[]) {
    const set = dataset.splits[split]
    if (!set) continue
    for (let i = 0; i < set.labels.length; i++) {
      const entry = classes[set.labels[i] as number]
      if (!entry || entry.samples.length >= perClass) continue
      const sample: DatasetSample = {
        split,
        dataUrl: await encodeSampleDataUrl(set, i, dataset.width, dataset.height),
        source: set.sources[i] ?? ''
      }
      entry.samples.push(sample)
    }
  }
  return classes
}
