/**
 * Removing a dataset from the library, and optionally its files. Files are deleted only when the
 * library made them (a download or an archive import, inside the data folder); a folder registered in
 * place belongs to the user and is never deleted from here.
 */
import { randomBytes } from 'node:crypto'
import { rename, rm } from 'node:fs/promises'
import { join, relative, isAbsolute } from 'node:path'
import type { LibraryDataset } from '../../shared/library'
import { LibraryError } from './library-error'
import { updateLibraryIndex } from './library-index'
import { toLibraryDataset } from './library-listing'

export interface RemoveDatasetOptions {
  dataDir: string
  name: string
  deleteFiles?: boolean
}

/**
 * Unregisters a dataset; with deleteFiles also deletes its folder (managed datasets only).
 * The entry leaves the index before its files go, so a failed delete never leaves an entry
 * pointing at half a dataset.
 * @returns the removed entry (as it was listed)
 * @throws LibraryError 'not-found' (listing the names there are), 'invalid' (deleteFiles on a folder
 * registered in place)
 */
export async function removeDataset(options: RemoveDatasetOptions): Promise<LibraryDataset> {
  const { dataDir, name } = options
  let aside: string | undefined
  const removed = await updateLibraryIndex(dataDir, async (datasets) => {
    const entry = datasets.find((d) => d.name === name)
    if (!entry) {
      const names = datasets.map((d) => d.name)
      throw new LibraryError('not-found', name, `is not in the library${names.length ? ` (it has ${names.join(', ')})` : ' (it is empty)'}`)
    }
    const listed = toLibraryDataset(entry)
    if (options.deleteFiles) {
      if (!entry.managed || !isInside(dataDir, entry.location)) {
        throw new LibraryError(
          'invalid',
          name,
          `its files at ${entry.location} were not made by the library (registered in place), so they are not deleted from here; ` +
            'remove it without deleting files, and delete the folder yourself if you mean to'
        )
      }
      if (listed.available) {
        // Renamed under the lock, deleted after it: the slow delete does not hold up other changes.
        aside = join(dataDir, `.removing-${name}-${randomBytes(4).toString('hex')}`)
        await rename(entry.location, aside)
      }
    }
    return { datasets: datasets.filter((d) => d !== entry), result: listed }
  })
  if (aside) await rm(aside, { recursive: true, force: true })
  return removed
}

/** Whether `path` is strictly inside `dir` (never `dir` itself). */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}
