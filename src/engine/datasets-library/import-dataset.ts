/**
 * Importing what a researcher already has: a CIFAR release archive (extracted into the library and
 * its MD5 recorded), an extracted CIFAR folder or an image folder (both registered where they are,
 * nothing copied). Image folders are decoded once, and unreadable files are listed, not fatal.
 */
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import type { LibraryDataset } from '../../shared/library'
import { inspectCifarFolder, detectCifarFolder } from './cifar-folder'
import { CIFAR_RELEASES, type CifarRelease } from './cifar-releases'
import { md5File } from './hash-file'
import { inspectImageFolder } from './image-folder-check'
import { installCifarArchive } from './install-cifar'
import { LibraryError, throwIfCancelled } from './library-error'
import { checkLibraryName, nameFromPath, readLibraryIndex } from './library-index'
import { toLibraryDataset } from './library-listing'
import { stepProgress, type LibraryProgress } from './library-progress'
import { registerInPlace } from './register-dataset'

export interface ImportDatasetOptions {
  /** An archive file or a folder. */
  path: string
  dataDir: string
  /** Library name; default: the release's (`cifar10`, `cifar100`) or the folder's name. */
  name?: string
  signal?: AbortSignal
  onProgress?: (progress: LibraryProgress) => void
}

/**
 * Imports an archive or a folder into the library.
 * @throws LibraryError 'not-found', 'invalid' (bad name, unknown file type), 'conflict' (name or
 * folder already in the library), 'archive', 'data', 'cancelled'
 */
export async function importDataset(options: ImportDatasetOptions): Promise<LibraryDataset> {
  const path = resolve(options.path)
  const info = await stat(path).catch(() => undefined)
  if (!info) throw new LibraryError('not-found', path, 'no such file or folder')
  if (options.name !== undefined) {
    checkLibraryName(options.name)
    // Fail before minutes of extraction or decoding, not after (registration checks again under the lock).
    const taken = (await readLibraryIndex(options.dataDir)).find((d) => d.name === options.name)
    if (taken) throw new LibraryError('conflict', options.name, `is already in the library (${taken.title} at ${taken.location}); choose another name`)
  }
  if (info.isFile()) return importArchive(path, options)
  if (info.isDirectory()) return importFolder(path, options)
  throw new LibraryError('invalid', path, 'is neither a file nor a folder')
}

/** A `.tar.gz`/`.tgz`/`.tar` of a CIFAR binary release. */
async function importArchive(path: string, options: ImportDatasetOptions): Promise<LibraryDataset> {
  if (!/\.(tar\.gz|tgz|tar)$/i.test(path)) {
    throw new LibraryError('invalid', path, 'is not an archive the library reads (a .tar.gz, .tgz or .tar of the CIFAR-10 or CIFAR-100 binary release)')
  }
  const report = options.onProgress ?? (() => undefined)
  const md5 = await md5File(path, {
    signal: options.signal,
    onProgress: (done, total) => report(stepProgress('verifying', done, total, `computing the MD5 of ${basename(path)}`))
  })
  const official = Object.values(CIFAR_RELEASES).find((r) => r.md5 === md5)
  return installCifarArchive({
    archive: path,
    // An official archive must hold its own release; any other is recognized by its members.
    release: official,
    dataDir: options.dataDir,
    name: options.name,
    source: { type: 'archive', path, md5, bytes: (await stat(path)).size, official: official !== undefined },
    signal: options.signal,
    onProgress: report
  })
}

/** An extracted CIFAR folder (or its parent), else an image folder; registered in place. */
async function importFolder(path: string, options: ImportDatasetOptions): Promise<LibraryDataset> {
  const report = options.onProgress ?? (() => undefined)
  const cifar = findCifarFolder(path)
  if (cifar) {
    const { dir, release } = cifar
    const contents = await inspectCifarFolder(dir, release, {
      signal: options.signal,
      onProgress: (done, total) => report(stepProgress('scanning', done, total, `checking the ${release.title} records in ${dir}`))
    })
    throwIfCancelled(options.signal, dir)
    const name = options.name ?? release.name
    checkLibraryName(name)
    report(stepProgress('registering', 0, null, `registering ${name}`))
    const entry = await registerInPlace(options.dataDir, dir, {
      name,
      kind: release.name,
      title: release.title,
      managed: false,
      ...contents,
      imageSize: { width: 32, height: 32 },
      source: { type: 'folder', path: dir },
      unreadable: [],
      unreadableCount: 0
    })
    return toLibraryDataset(entry)
  }

  report(stepProgress('scanning', 0, null, `scanning ${path}`, 'files'))
  const contents = await inspectImageFolder(path, {
    signal: options.signal,
    onProgress: (phase, done, total) =>
      report(stepProgress(phase, done, total, phase === 'scanning' ? `found ${total} images in ${path}` : `decoding images in ${path}`, 'files'))
  })
  throwIfCancelled(options.signal, path)
  const name = options.name ?? nameFromPath(basename(path))
  checkLibraryName(name)
  report(stepProgress('registering', 0, null, `registering ${name}`, 'files'))
  const { layout: _layout, ...stored } = contents
  const entry = await registerInPlace(options.dataDir, path, {
    name,
    kind: 'folder',
    title: basename(path),
    managed: false,
    ...stored,
    source: { type: 'folder', path }
  })
  return toLibraryDataset(entry)
}

/** The folder itself when it holds a CIFAR release, or its official subfolder (`cifar-10-batches-bin`, …). */
function findCifarFolder(path: string): { dir: string; release: CifarRelease } | undefined {
  const here = detectCifarFolder(path)
  if (here) return { dir: path, release: here }
  for (const release of Object.values(CIFAR_RELEASES)) {
    const dir = join(path, release.topFolder)
    if (existsSync(dir) && detectCifarFolder(dir) === release) return { dir, release }
  }
  return undefined
}
