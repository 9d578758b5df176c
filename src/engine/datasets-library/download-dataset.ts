/**
 * Downloading an official CIFAR release into the library: download (resumable) → MD5 check →
 * safe extraction into a staging folder → record check → registration. The checksum is verified
 * before anything is extracted or registered; a mismatch deletes the download.
 */
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LibraryDataset } from '../../shared/library'
import { findRelease, manualDownloadSteps, type CifarRelease } from './cifar-releases'
import { downloadsDir } from './data-dir'
import { discardPartial, downloadFile } from './http-download'
import { md5File, isMd5 } from './hash-file'
import { installCifarArchive } from './install-cifar'
import { LibraryError, throwIfCancelled } from './library-error'
import { readLibraryIndex } from './library-index'
import { listLibrary } from './library-listing'
import type { LibraryProgress } from './library-progress'

export interface DownloadDatasetOptions {
  dataset: CifarRelease['name']
  dataDir: string
  /** A mirror (http, https) or a local copy (file:) instead of the official URL. */
  url?: string
  /** Expected MD5 instead of the official one (the official size is then not enforced either). */
  md5?: string
  signal?: AbortSignal
  onProgress?: (progress: LibraryProgress) => void
  /** Passed to the downloader (tests shorten them). */
  retries?: number
  retryDelayMs?: number
  stallTimeoutMs?: number
}

export interface DownloadDatasetResult {
  dataset: LibraryDataset
  /** True when the dataset was already in the library and nothing was downloaded. */
  alreadyPresent: boolean
  /** What was fetched (null when already present). */
  download: { url: string; bytes: number; md5: string; resumedFromBytes: number; attempts: number } | null
}

/**
 * Downloads, checks, extracts and registers CIFAR-10 or CIFAR-100 as `cifar10` / `cifar100`.
 * A dataset already in the library (with its folder present) is returned as it is.
 * @throws LibraryError: 'invalid' (bad URL or MD5), 'offline' (with the manual steps), 'http',
 * 'interrupted' (partial file kept), 'checksum' (download deleted, nothing registered),
 * 'archive'/'data' (nothing registered), 'cancelled' (partial file kept)
 */
export async function downloadDataset(options: DownloadDatasetOptions): Promise<DownloadDatasetResult> {
  const release = findRelease(options.dataset)
  if (!release) throw new LibraryError('invalid', String(options.dataset), 'is not a downloadable dataset (cifar10 or cifar100)')
  const url = checkUrl(options.url ?? release.url)
  if (options.md5 !== undefined && !isMd5(options.md5)) throw new LibraryError('invalid', options.md5, 'is not an MD5 (32 hexadecimal digits)')
  const expectedMd5 = (options.md5 ?? release.md5).toLowerCase()
  const { dataDir, signal } = options
  const report = options.onProgress ?? (() => undefined)

  const existing = (await readLibraryIndex(dataDir)).find((d) => d.name === release.name)
  if (existing && existsSync(existing.location)) {
    const listed = (await listLibrary(dataDir)).datasets.find((d) => d.name === release.name) as LibraryDataset
    return { dataset: listed, alreadyPresent: true, download: null }
  }

  // A local copy is checked and extracted where it is; only network downloads go to the downloads folder.
  const local = url.protocol === 'file:'
  const archive = local ? fileURLToPath(url) : join(downloadsDir(dataDir), `${release.fileName}.part`)
  let fetched = { bytes: 0, resumedFromBytes: 0, attempts: 0 }
  if (local) {
    if (!existsSync(archive)) throw new LibraryError('not-found', archive, 'no such file')
  } else {
    const manual = manualDownloadSteps(release, url.href)
    report({ state: 'downloading', done: 0, total: null, unit: 'bytes', bytesPerSecond: null, etaSeconds: null, resumedFromBytes: 0, message: `connecting to ${url.host}` })
    fetched = await downloadFile({
      url: url.href,
      partPath: archive,
      expectedBytes: options.md5 === undefined ? release.bytes : undefined,
      signal,
      manual,
      retries: options.retries,
      retryDelayMs: options.retryDelayMs,
      stallTimeoutMs: options.stallTimeoutMs,
      onProgress: (p) =>
        report({
          state: 'downloading',
          done: p.receivedBytes,
          total: p.totalBytes,
          unit: 'bytes',
          bytesPerSecond: p.bytesPerSecond,
          etaSeconds: p.etaSeconds,
          resumedFromBytes: p.resumedFromBytes,
          message: `downloading ${release.fileName}${p.resumedFromBytes > 0 ? ` (resumed at ${p.resumedFromBytes} bytes)` : ''}`
        })
    })
  }

  throwIfCancelled(signal, url.href)
  const md5 = await md5File(archive, {
    signal,
    onProgress: (done, total) => report({ state: 'verifying', done, total, unit: 'bytes', bytesPerSecond: null, etaSeconds: null, resumedFromBytes: 0, message: `checking the MD5 of ${release.fileName}` })
  })
  if (md5 !== expectedMd5) {
    if (!local) await discardPartial(archive)
    throw new LibraryError(
      'checksum',
      url.href,
      `MD5 is ${md5}, expected ${expectedMd5}; ${local ? 'the file was left as it is' : 'the download was deleted'} and nothing was registered`,
      options.md5 === undefined ? manualDownloadSteps(release, release.url) : undefined
    )
  }

  const dataset = await installCifarArchive({
    archive,
    label: release.fileName,
    release,
    dataDir,
    name: release.name,
    source: { type: 'download', url: url.href, md5, bytes: fetched.bytes || (await stat(archive)).size },
    replace: existing !== undefined,
    signal,
    onProgress: report
  }).catch(async (error: unknown) => {
    // A verified archive that does not extract will not extract next time either; a cancelled one will.
    if (!local && !(error instanceof LibraryError && error.reason === 'cancelled')) await discardPartial(archive)
    throw error
  })
  if (!local) await discardPartial(archive)
  return { dataset, alreadyPresent: false, download: { url: url.href, md5, ...fetched } }
}

/** @throws LibraryError 'invalid' unless the URL is http, https or file */
function checkUrl(value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new LibraryError('invalid', value, 'is not a URL (for a file on this machine use file:///path, or `dataset import PATH`)')
  }
  if (!['http:', 'https:', 'file:'].includes(url.protocol)) throw new LibraryError('invalid', value, 'must be an http, https or file URL')
  return url
}
