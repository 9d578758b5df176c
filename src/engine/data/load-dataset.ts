import { existsSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { CIFAR100_BATCH_FILES, CIFAR10_BATCH_FILES, readCifar10, readCifar100, readClassNames } from './cifar-binary'
import { DatasetError, type ImageDataset, type ReadOptions } from './dataset'
import { DEMO_CLASS_NAMES, generateDemoDataset } from './demo-dataset'
import { hasImages, readImageFolder, scanImageFolder } from './image-folder'

export type DatasetKind = 'demo' | 'cifar10' | 'cifar100' | 'cifar100-coarse' | 'folder'

/** A parsed dataset id: `demo`, `cifar10:<dir>`, `cifar100:<dir>`, `cifar100-coarse:<dir>`, `folder:<dir>`. */
export interface DatasetRef {
  kind: DatasetKind
  /** Absolute folder; undefined for the built-in demo. */
  dir?: string
}

const ID_FORMS = 'demo, cifar10:<dir>, cifar100:<dir>, cifar100-coarse:<dir>, folder:<dir>'

/** Parses a dataset id, resolving its folder against the working directory. */
export function parseDatasetId(id: string): DatasetRef {
  if (id === 'demo') return { kind: 'demo' }
  const colon = id.indexOf(':')
  const kind = colon > 0 ? id.slice(0, colon) : ''
  const dir = colon > 0 ? id.slice(colon + 1) : ''
  if (!['cifar10', 'cifar100', 'cifar100-coarse', 'folder'].includes(kind) || dir === '') {
    throw new DatasetError(id, `not a dataset id; use one of ${ID_FORMS}`)
  }
  return { kind: kind as DatasetKind, dir: resolve(dir) }
}

/** Loads a dataset by id with the reader for its kind. */
export async function loadDataset(id: string, options: ReadOptions = {}): Promise<ImageDataset> {
  const ref = parseDatasetId(id)
  switch (ref.kind) {
    case 'demo':
      return generateDemoDataset({ classes: options.classes, maxPerClass: options.maxPerClass })
    case 'cifar10':
      return readCifar10(ref.dir as string, options)
    case 'cifar100':
      return readCifar100(ref.dir as string, options)
    case 'cifar100-coarse':
      return readCifar100(ref.dir as string, { ...options, labels: 'coarse' })
    case 'folder':
      return readImageFolder(ref.dir as string, options)
  }
}

/** A dataset's class names in label order, without reading its images. */
export async function readDatasetClassNames(id: string): Promise<string[]> {
  const ref = parseDatasetId(id)
  switch (ref.kind) {
    case 'demo':
      return [...DEMO_CLASS_NAMES]
    case 'cifar10':
      return readClassNames(join(ref.dir as string, 'batches.meta.txt'))
    case 'cifar100':
      return readClassNames(join(ref.dir as string, 'fine_label_names.txt'))
    case 'cifar100-coarse':
      return readClassNames(join(ref.dir as string, 'coarse_label_names.txt'))
    case 'folder':
      return (await scanImageFolder(ref.dir as string)).classNames
  }
}

/** A dataset found on disk (or built in), described without reading its images. */
export interface DiscoveredDataset {
  id: string
  kind: DatasetKind
  name: string
  /** Folder; null for the built-in demo. */
  location: string | null
  classNames: string[]
}

const KIND_NAMES: Record<DatasetKind, string> = {
  demo: 'Demo patterns',
  cifar10: 'CIFAR-10',
  cifar100: 'CIFAR-100',
  'cifar100-coarse': 'CIFAR-100 (coarse)',
  folder: 'Image folder'
}

/** Describes a dataset by id: kind, a display name, folder and class names. */
export async function describeDataset(id: string): Promise<DiscoveredDataset> {
  const ref = parseDatasetId(id)
  const name = ref.dir ? `${KIND_NAMES[ref.kind]} (${basename(ref.dir)})` : KIND_NAMES[ref.kind]
  return { id, kind: ref.kind, name, location: ref.dir ?? null, classNames: await readDatasetClassNames(id) }
}

/** Recognizes what a folder holds, if it is a dataset at all; returns its id. */
export async function detectDatasetId(dir: string): Promise<string | undefined> {
  const abs = resolve(dir)
  const has = (file: string): boolean => existsSync(join(abs, file))
  if (CIFAR10_BATCH_FILES.some(has) && has('batches.meta.txt')) return `cifar10:${abs}`
  if (CIFAR100_BATCH_FILES.some(has) && has('fine_label_names.txt')) return `cifar100:${abs}`
  try {
    if (hasImages(await scanImageFolder(abs))) return `folder:${abs}`
  } catch {
    // Not an image folder either.
  }
  return undefined
}

/**
 * The datasets the workbench knows: always `demo`, plus every dataset found in the given folders
 * (each folder itself, and its immediate subfolders).
 */
export async function discoverDatasets(dirs: readonly string[]): Promise<DiscoveredDataset[]> {
  const ids = new Set<string>(['demo'])
  for (const dir of dirs) {
    // A missing path or a plain file is no dataset folder: skip it rather than fail the whole list.
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue
    const self = await detectDatasetId(dir)
    if (self) {
      ids.add(self)
      continue
    }
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue
      const id = await detectDatasetId(join(dir, entry.name))
      if (id) ids.add(id)
    }
  }
  return Promise.all([...ids].map(describeDataset))
}
