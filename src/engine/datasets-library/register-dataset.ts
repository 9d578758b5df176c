/**
 * Registration: the last step of every download and import, and the only one other processes can
 * see. A dataset is in the library exactly when the index lists it: files are staged in a hidden
 * folder first and moved into place under the index lock just before the index is written, and moved
 * out again if that write fails. So a crash or an error at any point leaves either the old library or
 * the new one, never an entry without its files.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { LibraryDataset } from '../../shared/library'
import { updateLibraryIndex, type StoredDataset } from './library-index'
import { LibraryError } from './library-error'

/** An entry before it has a place: everything but location and ids. */
export type NewDataset = Omit<StoredDataset, 'location' | 'datasetIds' | 'addedAt'>

/** The ids training requests use for a dataset of this kind at this folder. */
export function datasetIdsFor(kind: LibraryDataset['kind'], location: string): string[] {
  if (kind === 'cifar100') return [`cifar100:${location}`, `cifar100-coarse:${location}`]
  return [`${kind}:${location}`]
}

/**
 * A fresh hidden folder inside the data folder to extract into: same file system as the final place,
 * so moving it there is one rename; hidden, so dataset discovery never mistakes it for a dataset.
 */
export async function createStagingDir(dataDir: string, name: string): Promise<string> {
  await mkdir(dataDir, { recursive: true })
  await removeAbandonedStaging(dataDir)
  const dir = join(dataDir, `.staging-${name}-${randomBytes(4).toString('hex')}`)
  await mkdir(dir)
  return dir
}

/** A staging or removal folder untouched this long was left by a process that died (ms). */
const ABANDONED_MS = 24 * 3600 * 1000

/**
 * Deletes staging and removal folders left by a process that died mid-way. Only old ones: a fresh
 * one may belong to another process (the app and the CLI) working right now.
 */
async function removeAbandonedStaging(dataDir: string): Promise<void> {
  for (const name of await readdir(dataDir)) {
    if (!name.startsWith('.staging-') && !name.startsWith('.removing-')) continue
    const path = join(dataDir, name)
    const info = await stat(path).catch(() => undefined)
    if (info && Date.now() - info.mtimeMs > ABANDONED_MS) await rm(path, { recursive: true, force: true })
  }
}

/**
 * Moves `stagedDir` to `<dataDir>/<name>` and registers it, atomically with respect to the index.
 * @param replace an existing entry of that name is replaced (a re-download of a dataset whose files went missing)
 * @throws LibraryError 'conflict' when the name is taken and replace is false
 */
export async function registerManaged(dataDir: string, stagedDir: string, dataset: NewDataset, replace = false): Promise<StoredDataset> {
  const location = join(dataDir, dataset.name)
  let moved = false
  try {
    return await updateLibraryIndex(dataDir, async (datasets) => {
      const taken = datasets.find((d) => d.name === dataset.name)
      if (taken && !replace) throw nameTaken(dataset.name, taken)
      if (existsSync(location)) {
        // Not registered (or being replaced): a leftover of an earlier attempt; the library owns this folder.
        const aside = join(dataDir, `.removing-${dataset.name}-${randomBytes(4).toString('hex')}`)
        await rename(location, aside)
        await rm(aside, { recursive: true, force: true })
      }
      await rename(stagedDir, location)
      moved = true
      const entry: StoredDataset = { ...dataset, location, datasetIds: datasetIdsFor(dataset.kind, location), addedAt: new Date().toISOString() }
      return { datasets: [...datasets.filter((d) => d.name !== dataset.name), entry], result: entry }
    })
  } catch (error) {
    // The index write failed after the move: take the folder out again, so no files sit unlisted.
    if (moved) await rm(location, { recursive: true, force: true })
    throw error
  }
}

/**
 * Registers a folder where it is (nothing copied or moved).
 * @throws LibraryError 'conflict' when the name is taken or the folder is already registered
 */
export async function registerInPlace(dataDir: string, location: string, dataset: NewDataset): Promise<StoredDataset> {
  return updateLibraryIndex(dataDir, async (datasets) => {
    const taken = datasets.find((d) => d.name === dataset.name)
    if (taken) throw nameTaken(dataset.name, taken)
    const same = datasets.find((d) => d.location === location)
    if (same) throw new LibraryError('conflict', location, `is already in the library as "${same.name}"`)
    const entry: StoredDataset = { ...dataset, location, datasetIds: datasetIdsFor(dataset.kind, location), addedAt: new Date().toISOString() }
    return { datasets: [...datasets, entry], result: entry }
  })
}

function nameTaken(name: string, taken: StoredDataset): LibraryError {
  return new LibraryError('conflict', name, `is already in the library (${taken.title} at ${taken.location}); choose another name, or remove that one first`)
}
