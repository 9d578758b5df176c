/**
 * Decompression bombs dressed as CIFAR releases: members that unpack beyond the release's known sizes
 * are refused at their header, naming the member, before a byte of them is written; a legitimate
 * (small) release still extracts.
 */
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractCifarArchive } from '../../../src/engine/datasets-library/cifar-archive'
import { CIFAR_RELEASES, maxArchiveBytes, maxMemberBytes } from '../../../src/engine/datasets-library/cifar-releases'
import { LibraryError } from '../../../src/engine/datasets-library/library-error'
import { buildArchive, makeTempDir, officialMembers, removeDir } from './library-fixtures'

let dir: string

beforeAll(async () => {
  dir = await makeTempDir('bomb')
})

afterAll(async () => {
  await removeDir(dir)
})

async function extractError(archive: string, dest: string): Promise<LibraryError> {
  const error = await extractCifarArchive(archive, dest).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(LibraryError)
  return error as LibraryError
}

/** Streams a tar.gz to disk whose member `name` is `size` zero bytes (never held in memory). */
async function writeZeroBomb(path: string, before: { name: string; data: Uint8Array }[], name: string, size: number): Promise<void> {
  const pack = tar.pack()
  const written = pipeline(pack, createGzip({ level: 1 }), createWriteStream(path))
  for (const m of before) await new Promise<void>((resolve, reject) => pack.entry({ name: m.name, size: m.data.length }, Buffer.from(m.data), (e) => (e ? reject(e) : resolve())))
  const entry = pack.entry({ name, size }, () => undefined) as unknown as NodeJS.WritableStream
  const chunk = Buffer.alloc(1 << 20)
  for (let left = size; left > 0; left -= chunk.length) {
    if (!entry.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise<void>((r) => entry.once('drain', () => r()))
  }
  entry.end()
  pack.finalize()
  await written
}

describe('CIFAR archives: unpacked sizes are capped by the release', () => {
  it('knows each member’s official size and the release’s total', () => {
    const c10 = CIFAR_RELEASES.cifar10
    const c100 = CIFAR_RELEASES.cifar100
    expect(maxMemberBytes(c10, 'data_batch_1.bin')).toBe(30_730_000)
    expect(maxMemberBytes(c10, 'test_batch.bin')).toBe(30_730_000)
    expect(maxMemberBytes(c100, 'train.bin')).toBe(50_000 * 3074)
    expect(maxMemberBytes(c100, 'test.bin')).toBe(10_000 * 3074)
    expect(maxMemberBytes(c10, 'batches.meta.txt')).toBeLessThanOrEqual(64 * 1024)
    // The official archives fit (six 30.73 MB batches; train + test), with little room to spare.
    expect(maxArchiveBytes(c10)).toBeGreaterThan(6 * 30_730_000)
    expect(maxArchiveBytes(c10)).toBeLessThan(6 * 30_730_000 + 8 * 1024 * 1024)
    expect(maxArchiveBytes(c100)).toBeGreaterThan(60_000 * 3074)
  })

  it('refuses a ~30 KB tar.gz whose data_batch_1.bin unpacks to 30 MB of zeros plus a record, naming the member, writing nothing', async () => {
    const archive = join(dir, 'bomb-batch.tar.gz')
    const members = officialMembers('cifar10', 3).map((m) => (m.name.endsWith('/data_batch_1.bin') ? { ...m, data: new Uint8Array(30_730_000 + 3073) } : m))
    await writeFile(archive, await buildArchive(members))
    expect((await stat(archive)).size).toBeLessThan(200_000)
    const dest = join(dir, 'out-batch')
    await mkdir(dest)
    const error = await extractError(archive, dest)
    expect(error.message).toContain('member "cifar-10-batches-bin/data_batch_1.bin" would unpack to 30,733,073 bytes, more than the 30,730,000 of the official CIFAR-10 file')
    expect(existsSync(join(dest, 'data_batch_1.bin'))).toBe(false)
  })

  it('refuses a member the release does not hold when it alone would unpack past the release’s total, before unpacking it', async () => {
    const archive = join(dir, 'bomb-extra.tar.gz')
    const size = maxArchiveBytes(CIFAR_RELEASES.cifar10) + 1
    await writeZeroBomb(archive, [{ name: 'cifar-10-batches-bin/batches.meta.txt', data: Buffer.from('airplane\n') }], 'cifar-10-batches-bin/padding.bin', size)
    expect((await stat(archive)).size).toBeLessThan(2_000_000)
    const dest = join(dir, 'out-extra')
    await mkdir(dest)
    const started = Date.now()
    const error = await extractError(archive, dest)
    expect(error.message).toMatch(/member "cifar-10-batches-bin\/padding\.bin" would unpack to [\d,]+ bytes, more than the CIFAR-10 release holds in all/)
    // Refused at the header: far quicker than inflating ~190 MB (a loose bound; the point is the message).
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(await readdir(dest)).toEqual(['batches.meta.txt'])
  }, 120_000)

  it('refuses an oversized names file, and still extracts a small release of the official layout', async () => {
    const archive = join(dir, 'big-names.tar.gz')
    const members = officialMembers('cifar10', 3).map((m) => (m.name.endsWith('/batches.meta.txt') ? { ...m, data: new Uint8Array(200_000).fill(0x61) } : m))
    await writeFile(archive, await buildArchive(members))
    const dest = join(dir, 'out-names')
    await mkdir(dest)
    expect((await extractError(archive, dest)).message).toMatch(/member "cifar-10-batches-bin\/batches\.meta\.txt" is 200,000 bytes, far too large/)

    const good = join(dir, 'good.tar.gz')
    await writeFile(good, await buildArchive(officialMembers('cifar10', 3)))
    const out = join(dir, 'out-good')
    await mkdir(out)
    const extracted = await extractCifarArchive(good, out)
    expect(extracted.files.sort()).toEqual(['batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'readme.html', 'test_batch.bin'])
  })
})
