/** Reading the library as the CLI and the UI show it. */
import { existsSync } from 'node:fs'
import type { LibraryDataset, LibraryListing } from '../../shared/library'
import { readLibraryIndex, type StoredDataset } from './library-index'

/** A stored entry as listed: with whether its folder is still there. */
export function toLibraryDataset(entry: StoredDataset): LibraryDataset {
  return { ...entry, available: existsSync(entry.location) }
}

/**
 * Every dataset in the library (sorted by name) and the data folder.
 * @throws LibraryError 'index' when the index cannot be read
 */
export async function listLibrary(dataDir: string): Promise<LibraryListing> {
  const datasets = (await readLibraryIndex(dataDir)).map(toLibraryDataset)
  datasets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { dataDir, datasets }
}

/**
 * The folders of the library's datasets that are still there: what dataset discovery searches besides
 * the built-in demo, so downloaded and imported datasets appear wherever datasets are listed.
 */
export async function libraryLocations(dataDir: string): Promise<string[]> {
  return (await listLibrary(dataDir)).datasets.filter((d) => d.available).map((d) => d.location)
}
