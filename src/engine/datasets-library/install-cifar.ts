/**
 * Extracting a CIFAR release archive into the library: staging folder → safe extraction → record
 * check → registration. Shared by downloads and archive imports; the staging folder is removed
 * whatever happens, so a failure leaves nothing behind.
 */
import { rm } from 'node:fs/promises'
import type { LibraryDataset, LibrarySource } from '../../shared/library'
import { extractCifarArchive } from './cifar-archive'
import { inspectCifarFolder } from './cifar-folder'
import type { CifarRelease } from './cifar-releases'
import { checkLibraryName } from './library-index'
import { toLibraryDataset } from './library-listing'
import { stepProgress, type LibraryProgress } from './library-progress'
import { createStagingDir, registerManaged } from './register-dataset'

export interface InstallCifarOptions {
  archive: string
  /** How progress messages name the archive (a download's `.part` file is not what the user asked for). */
  label?: string
  /** The release it must be; detected from its members when omitted. */
  release?: CifarRelease
  dataDir: string
  /** Library name; the release's name (`cifar10`, `cifar100`) when omitted. */
  name?: string
  source: LibrarySource
  /** Replace an entry of the same name (its files went missing). */
  replace?: boolean
  signal?: AbortSignal
  onProgress?: (progress: LibraryProgress) => void
}

/**
 * Extracts, checks and registers a CIFAR release archive.
 * @throws LibraryError 'archive', 'data', 'conflict', 'invalid', 'cancelled'
 */
export async function installCifarArchive(options: InstallCifarOptions): Promise<LibraryDataset> {
  const report = options.onProgress ?? (() => undefined)
  if (options.name !== undefined) checkLibraryName(options.name)
  const staging = await createStagingDir(options.dataDir, options.name ?? options.release?.name ?? 'archive')
  try {
    const extracted = await extractCifarArchive(options.archive, staging, {
      release: options.release,
      signal: options.signal,
      onProgress: (done, total) => report(stepProgress('extracting', done, total, `extracting ${options.label ?? options.archive}`))
    })
    const { release } = extracted
    const contents = await inspectCifarFolder(staging, release, {
      signal: options.signal,
      onProgress: (done, total) => report(stepProgress('verifying', done, total, `checking the ${release.title} records`))
    })
    const name = options.name ?? release.name
    report(stepProgress('registering', 0, null, `registering ${name}`))
    const entry = await registerManaged(
      options.dataDir,
      staging,
      {
        name,
        kind: release.name,
        title: release.title,
        managed: true,
        ...contents,
        imageSize: { width: 32, height: 32 },
        source: options.source,
        unreadable: [],
        unreadableCount: 0
      },
      options.replace
    )
    return toLibraryDataset(entry)
  } finally {
    // After a successful registration the folder has been moved away and this does nothing.
    await rm(staging, { recursive: true, force: true })
  }
}
