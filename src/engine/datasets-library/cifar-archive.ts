/**
 * Safe extraction of a CIFAR binary release archive (`.tar.gz`, or a plain `.tar`). Only the
 * release's known members are written, each under its own fixed file name in the target folder, so
 * no member name ever becomes a path. An archive that tries anything unusual — a member path
 * with `..` or an absolute path, a link or device, a duplicate member, a data member that is not a
 * whole number of records — is rejected as a whole; the caller removes the target folder.
 *
 * Nothing unpacks beyond the release's known sizes (a decompression bomb fills no disk): each member
 * is capped at its official size (data files) or a few KB (text files), checked against its header
 * before a byte is written and counted again as it is written, and the whole unpacked stream is
 * counted as it flows, skipped members included.
 */
import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import { CIFAR_RELEASES, maxArchiveBytes, maxMemberBytes, MAX_TEXT_MEMBER_BYTES, releaseByTopFolder, releaseMembers, type CifarRelease } from './cifar-releases'
import { LibraryError } from './library-error'

/** Until the release is known from the first member: the larger of the releases' caps. */
const MAX_ANY_ARCHIVE_BYTES = Math.max(...Object.values(CIFAR_RELEASES).map(maxArchiveBytes))
/** Skipped members are listed, up to this many. */
const MAX_LISTED_SKIPS = 100

export interface ExtractCifarOptions {
  /** The release the archive must hold; detected from the member folder when omitted. */
  release?: CifarRelease
  signal?: AbortSignal
  /** Archive bytes read so far (compressed), and the archive's size. */
  onProgress?: (done: number, total: number) => void
}

export interface ExtractedCifar {
  release: CifarRelease
  /** Member file names written into the target folder. */
  files: string[]
  /** Members present in the archive but not part of the release (not written). */
  skipped: string[]
}

/**
 * Extracts a CIFAR release archive into `destDir` (an existing, empty folder).
 * @throws LibraryError 'archive' (unsafe, damaged, truncated, not the release), 'data' (a data member
 * that is not whole records), 'cancelled'
 */
export async function extractCifarArchive(archivePath: string, destDir: string, options: ExtractCifarOptions = {}): Promise<ExtractedCifar> {
  const total = (await stat(archivePath)).size
  const gzipped = await hasGzipMagic(archivePath)
  let done = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length
      options.onProgress?.(done, total)
      callback(null, chunk)
    }
  })
  let release = options.release
  // The unpacked tar stream, counted as it flows: the member being read when it passes the cap is named.
  let unpacked = 0
  let current = '(the archive header)'
  let limitError: LibraryError | undefined
  const budget = (): number => (release ? maxArchiveBytes(release) : MAX_ANY_ARCHIVE_BYTES)
  const unpackedCounter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      unpacked += chunk.length
      if (unpacked > budget()) {
        limitError ??= new LibraryError('archive', archivePath, `unpacks to more than ${budget().toLocaleString('en-US')} bytes (at member "${current}"), more than ${release ? `the ${release.title} release` : 'a CIFAR release'} holds; the archive is rejected and nothing was registered`)
        callback(limitError)
        return
      }
      callback(null, chunk)
    }
  })
  const extract = tar.extract()
  const read = createReadStream(archivePath, { highWaterMark: 1 << 20 })
  const flowing = gzipped
    ? pipeline(read, counter, createGunzip(), unpackedCounter, extract, { signal: options.signal })
    : pipeline(read, counter, unpackedCounter, extract, { signal: options.signal })
  // Observed below; this keeps an early failure from being reported as unhandled meanwhile.
  flowing.catch(() => undefined)

  const written = new Set<string>()
  const skipped: string[] = []
  const topFolders = new Set<string>()
  const skip = (name: string): void => {
    if (skipped.length < MAX_LISTED_SKIPS) skipped.push(name)
  }
  try {
    for await (const entry of extract) {
      const { name, type } = entry.header
      current = name
      const parts = memberParts(archivePath, name)
      if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') {
        throw new LibraryError('archive', archivePath, `member "${name}" is a ${type ?? 'special entry'}; a CIFAR release holds only plain files, so the archive is rejected`)
      }
      if (type === 'directory' || parts.length === 0) {
        entry.resume()
        continue
      }
      topFolders.add(parts[0])
      release ??= releaseByTopFolder(parts[0])
      const members = release ? releaseMembers(release) : undefined
      const base = parts[1]
      const size = entry.header.size ?? 0
      // Even a member that is skipped would be unpacked (to nowhere) to reach the next: refused at its header.
      if (unpacked + size > budget()) {
        throw new LibraryError('archive', archivePath, `member "${name}" would unpack to ${size.toLocaleString('en-US')} bytes, more than ${release ? `the ${release.title} release` : 'a CIFAR release'} holds in all; the archive is rejected and nothing was registered`)
      }
      if (!release || !members || parts.length !== 2 || parts[0] !== release.topFolder || ![...members.required, ...members.optional].includes(base)) {
        skip(name)
        entry.resume()
        continue
      }
      if (written.has(base)) throw new LibraryError('archive', archivePath, `member "${name}" appears twice; the archive is rejected`)
      checkMemberSize(archivePath, release, name, base, size)
      const max = maxMemberBytes(release, base)
      await writeMember(entry, join(destDir, base), max, () => new LibraryError('archive', archivePath, `member "${name}" unpacks to more than ${max.toLocaleString('en-US')} bytes, the most a ${release?.title} ${base} holds; the archive is rejected and nothing was registered`))
      written.add(base)
    }
    await flowing
  } catch (error) {
    extract.destroy()
    read.destroy()
    await flowing.catch(() => undefined)
    if (options.signal?.aborted) throw new LibraryError('cancelled', archivePath, 'cancelled while extracting')
    if (limitError) throw limitError
    if (error instanceof LibraryError) throw error
    throw new LibraryError('archive', archivePath, `is damaged or truncated (${(error as Error).message}); nothing was registered`)
  }

  if (!release) {
    const found = topFolders.size ? `; its members are under ${[...topFolders].slice(0, 3).map((t) => `${t}/`).join(', ')}` : '; it holds no files'
    throw new LibraryError('archive', archivePath, `is not a CIFAR binary release (expected members under cifar-10-batches-bin/ or cifar-100-binary/${found})`)
  }
  const missing = releaseMembers(release).required.filter((m) => !written.has(m))
  if (missing.length > 0) {
    const others = [...topFolders].filter((t) => t !== release.topFolder)
    throw new LibraryError(
      'archive',
      archivePath,
      `lacks ${missing.map((m) => `${release.topFolder}/${m}`).join(', ')} (truncated, or not the full ${release.title} release` +
        `${others.length ? `; it holds members under ${others.map((t) => `${t}/`).join(', ')}` : ''})`
    )
  }
  return { release, files: [...written], skipped }
}

/**
 * A member name as path segments (`./` and empty segments dropped).
 * @throws LibraryError for an absolute path or a `..` segment: such an archive would write outside its folder
 */
export function memberParts(archivePath: string, name: string): string[] {
  // Backslashes count as separators too: `..\x` is as dangerous on Windows as `../x` is anywhere.
  const unsafe = name.includes('\0') || /^([/\\]|[A-Za-z]:)/.test(name) || name.split(/[/\\]/).includes('..')
  if (unsafe) {
    throw new LibraryError('archive', archivePath, `member "${name}" has a path outside the archive's folder; the archive is rejected and nothing was registered`)
  }
  return name.split(/[/\\]/).filter((part) => part !== '' && part !== '.')
}

/** Rejects a member whose size cannot be right before a byte of it is written. */
function checkMemberSize(archivePath: string, release: CifarRelease, name: string, base: string, size: number): void {
  const data = release.dataFiles.find((f) => f.file === base)
  if (data) {
    const max = maxMemberBytes(release, base)
    if (size > max) {
      throw new LibraryError(
        'archive',
        archivePath,
        `member "${name}" would unpack to ${size.toLocaleString('en-US')} bytes, more than the ${max.toLocaleString('en-US')} of the official ${release.title} file ` +
          `(${data.records.toLocaleString('en-US')} records); the archive is rejected and nothing was registered`
      )
    }
    if (size === 0 || size % release.recordBytes !== 0) {
      throw new LibraryError(
        'data',
        archivePath,
        `member "${name}" is ${size.toLocaleString('en-US')} bytes, not a whole number of ${release.recordBytes.toLocaleString('en-US')}-byte ` +
          `records (corrupt, or not ${release.title}); nothing was registered`
      )
    }
  } else if (size > MAX_TEXT_MEMBER_BYTES) {
    throw new LibraryError('archive', archivePath, `member "${name}" is ${size.toLocaleString('en-US')} bytes, far too large for a ${release.title} text file (at most ${MAX_TEXT_MEMBER_BYTES.toLocaleString('en-US')}); the archive is rejected`)
  }
}

/**
 * Writes one member's bytes to a new file; 'wx' so an existing file or link there is never followed or
 * overwritten. Counts what it writes: more than `maxBytes` stops it (the header check came first; this
 * holds even if a tar reader ever trusts something else).
 */
async function writeMember(entry: AsyncIterable<unknown>, path: string, maxBytes: number, tooLarge: () => Error): Promise<void> {
  const handle = await open(path, 'wx')
  let written = 0
  try {
    for await (const chunk of entry) {
      written += (chunk as Buffer).length
      if (written > maxBytes) throw tooLarge()
      await handle.write(chunk as Buffer)
    }
  } finally {
    await handle.close()
  }
}

async function hasGzipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r')
  try {
    const head = new Uint8Array(2)
    const { bytesRead } = await handle.read(head, 0, 2, 0)
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b
  } finally {
    await handle.close()
  }
}
