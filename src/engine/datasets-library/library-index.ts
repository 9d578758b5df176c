/**
 * The library index, `library.json` in the data folder: every registered dataset. Read with a
 * schema (a hand-edited or foreign file gives an error naming the entry, never a half-understood
 * library) and changed only under the lock, read-modify-write, written atomically.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { z } from 'zod'
import type { LibraryDataset } from '../../shared/library'
import { writeJsonAtomic } from '../project/atomic-files'
import { libraryIndexPath } from './data-dir'
import { LibraryError } from './library-error'
import { withFileLock } from './library-lock'

/** What the index stores per dataset: everything but `available`, which is looked up when listing. */
export type StoredDataset = Omit<LibraryDataset, 'available'>

/** Bumped when the stored shape changes incompatibly. */
export const LIBRARY_INDEX_VERSION = 1

/** Library names: safe as a folder name on every platform, short enough for a list. */
export const LIBRARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** Names that would clash with the data folder's own files. */
const RESERVED_NAMES = new Set(['downloads', 'library.json'])

const count = z.int().min(0)
const storedDataset = z.object({
  name: z.string().regex(LIBRARY_NAME),
  kind: z.enum(['cifar10', 'cifar100', 'folder']),
  title: z.string(),
  datasetIds: z.array(z.string()).min(1),
  location: z.string().min(1),
  managed: z.boolean(),
  classes: z.array(z.object({ name: z.string(), train: count, test: count })),
  coarseClassNames: z.array(z.string()).optional(),
  counts: z.object({ train: count, test: count }),
  imageSize: z.object({ width: count, height: count }).nullable(),
  bytesOnDisk: count,
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('download'), url: z.string(), md5: z.string(), bytes: count }),
    z.object({ type: z.literal('archive'), path: z.string(), md5: z.string(), bytes: count, official: z.boolean() }),
    z.object({ type: z.literal('folder'), path: z.string() })
  ]),
  addedAt: z.string(),
  unreadable: z.array(z.object({ file: z.string(), reason: z.string() })),
  unreadableCount: count
}) satisfies z.ZodType<StoredDataset>

const indexFile = z.object({ version: z.literal(LIBRARY_INDEX_VERSION), datasets: z.array(storedDataset) })

/**
 * The registered datasets (none when the index does not exist yet).
 * @throws LibraryError 'index' naming the file and the bad entry when it cannot be understood
 */
export async function readLibraryIndex(dataDir: string): Promise<StoredDataset[]> {
  const path = libraryIndexPath(dataDir)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new LibraryError('index', path, `is not valid JSON (${(error as Error).message}); fix it, or move it away to start an empty library`)
  }
  const parsed = indexFile.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue.path.length ? issue.path.join('.') : 'the file'
    throw new LibraryError('index', path, `${where}: ${issue.message} (written by another version, or edited by hand?)`)
  }
  return parsed.data.datasets
}

/**
 * Changes the index under the lock: reads it, hands the datasets to `change`, writes what it returns.
 * `change` may throw to leave the index untouched; it may also do file work that must happen together
 * with the change (moving a dataset folder into place), since no other change can interleave.
 * @returns what `change` returned alongside the new list
 */
export async function updateLibraryIndex<T>(
  dataDir: string,
  change: (datasets: StoredDataset[]) => Promise<{ datasets: StoredDataset[]; result: T }>
): Promise<T> {
  const path = libraryIndexPath(dataDir)
  await mkdir(dataDir, { recursive: true })
  return withFileLock(`${path}.lock`, async () => {
    const { datasets, result } = await change(await readLibraryIndex(dataDir))
    await writeJsonAtomic(path, { version: LIBRARY_INDEX_VERSION, datasets })
    return result
  })
}

/**
 * @throws LibraryError 'invalid' naming the value when it cannot be a library name
 */
export function checkLibraryName(name: string): void {
  if (!LIBRARY_NAME.test(name) || RESERVED_NAMES.has(name.toLowerCase())) {
    throw new LibraryError(
      'invalid',
      name,
      RESERVED_NAMES.has(name.toLowerCase())
        ? 'is reserved for the data folder itself; choose another name'
        : 'is not a usable dataset name (1–64 letters, digits, ".", "_" or "-", starting with a letter or digit)'
    )
  }
}

/** A library name from a folder or file name: unusable characters become '-'. */
export function nameFromPath(base: string): string {
  const slug = base
    .replace(/\.(tar\.gz|tgz|tar)$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64)
  return slug === '' || RESERVED_NAMES.has(slug.toLowerCase()) ? 'dataset' : slug
}
