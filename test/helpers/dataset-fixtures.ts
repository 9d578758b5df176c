/**
 * Small on-disk datasets for the dataset-reader tests: temp folders, CIFAR binary files with a known
 * byte pattern, and real PNG/JPEG files written with sharp. Nothing here reads the shared real data.
 */

import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { expect } from 'vitest'
import { DatasetError } from '../../src/engine/data/dataset'

export const CIFAR_SIDE = 32
export const CIFAR_PIXELS = CIFAR_SIDE * CIFAR_SIDE
export const CIFAR_IMAGE_BYTES = 3 * CIFAR_PIXELS

/** A fresh folder under the OS temp dir. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tw-${prefix}-`))
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
}

/**
 * Whether a real-data folder (resolved by the caller from its own import.meta.url) exists. When it
 * does not, warns what is skipped and why: the caller skips with describe.skipIf, never passes silently.
 */
export function realDataFolder(path: string, what: string): boolean {
  const exists = existsSync(path)
  if (!exists) console.warn(`SKIPPED: ${what}: real data folder ${path} not found (see ../shared/datasets/README.md)`)
  return exists
}

/** Asserts that `promise` rejects with a DatasetError whose message contains every one of `parts`. */
export async function expectDatasetError(promise: Promise<unknown> | (() => unknown), ...parts: (string | RegExp)[]): Promise<DatasetError> {
  let error: unknown
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (caught) {
    error = caught
  }
  expect(error, 'expected a DatasetError to be thrown').toBeInstanceOf(DatasetError)
  const message = (error as DatasetError).message
  for (const part of parts) {
    if (typeof part === 'string') expect(message).toContain(part)
    else expect(message).toMatch(part)
  }
  return error as DatasetError
}

// ---------------------------------------------------------------------------------------------
// CIFAR binary files

/**
 * The test pattern: byte of `channel` (0 R, 1 G, 2 B) at planar pixel `pixel` (y*32+x) of the record
 * with identity `id`. Different for neighbouring pixels, rows, planes and records, so any mix-up of
 * planes, transposition, off-by-one or wrong record shows.
 */
export function cifarPixel(id: number, channel: number, pixel: number): number {
  return (id * 7 + channel * 101 + pixel + (pixel >> 8) * 17 + (pixel >> 5) * 3) & 255
}

/** Record identity used by the writers below: unique per (file, record). */
export function cifarRecordId(file: string, record: number): number {
  let h = 0
  for (const ch of file) h = (h * 31 + ch.charCodeAt(0)) & 0xffff
  return h * 4096 + record
}

/** The HWC RGB bytes the reader must produce for record `record` of file `file` (as written below). */
export function expectedCifarImage(file: string, record: number): Uint8Array {
  const id = cifarRecordId(file, record)
  const out = new Uint8Array(CIFAR_IMAGE_BYTES)
  for (let p = 0; p < CIFAR_PIXELS; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = cifarPixel(id, c, p)
  return out
}

/**
 * Bytes of a CIFAR batch file: one record per entry of `labels` (each entry the record's label
 * bytes: `[label]` for CIFAR-10, `[coarse, fine]` for CIFAR-100), pixels from cifarPixel, planar.
 */
export function cifarFileBytes(file: string, labels: readonly (readonly number[])[]): Uint8Array {
  const labelBytes = labels[0]?.length ?? 1
  const recordSize = labelBytes + CIFAR_IMAGE_BYTES
  const bytes = new Uint8Array(labels.length * recordSize)
  labels.forEach((recordLabels, r) => {
    const base = r * recordSize
    bytes.set(recordLabels, base)
    const id = cifarRecordId(file, r)
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < CIFAR_PIXELS; p++) bytes[base + labelBytes + c * CIFAR_PIXELS + p] = cifarPixel(id, c, p)
    }
  })
  return bytes
}

/**
 * Writes a CIFAR-10 folder: `batches.meta.txt` (unless names is null) and one file per entry of
 * `files` (file name → label per record).
 */
export async function writeCifar10Dir(dir: string, names: readonly string[] | null, files: Record<string, readonly number[]>): Promise<void> {
  await mkdir(dir, { recursive: true })
  if (names !== null) await writeFile(join(dir, 'batches.meta.txt'), names.join('\n') + '\n')
  for (const [file, labels] of Object.entries(files)) {
    await writeFile(join(dir, file), cifarFileBytes(file, labels.map((l) => [l])))
  }
}

/** Writes a CIFAR-100 folder: fine and coarse names files and `train.bin`/`test.bin` of [coarse, fine] records. */
export async function writeCifar100Dir(
  dir: string,
  fine: readonly string[],
  coarse: readonly string[],
  files: Partial<Record<'train.bin' | 'test.bin', readonly [number, number][]>>
): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'fine_label_names.txt'), fine.join('\n') + '\n')
  await writeFile(join(dir, 'coarse_label_names.txt'), coarse.join('\n') + '\n')
  for (const [file, labels] of Object.entries(files)) await writeFile(join(dir, file), cifarFileBytes(file, labels))
}

/** Labels `0..classes-1` repeated to `count` records. */
export function cyclicLabels(count: number, classes: number): number[] {
  return Array.from({ length: count }, (_, i) => i % classes)
}

// ---------------------------------------------------------------------------------------------
// Image files

export type Rgb = readonly [number, number, number]

/** Writes a solid-colour RGB image (format from the extension: .png, .jpg/.jpeg). */
export async function writeSolidImage(path: string, width: number, height: number, rgb: Rgb): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const image = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
  await (/\.png$/i.test(path) ? image.png() : image.jpeg({ quality: 95 })).toFile(path)
}

/** Writes an image from raw interleaved bytes (`channels` 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
export async function writeRawImage(path: string, width: number, height: number, channels: 1 | 2 | 3 | 4, data: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  let image = sharp(Buffer.from(data), { raw: { width, height, channels } })
  // Without this sharp writes grey input as an RGB file.
  if (channels <= 2) image = image.toColourspace('b-w')
  await (/\.png$/i.test(path) ? image.png() : image.jpeg({ quality: 95 })).toFile(path)
}

/** Writes a real JPEG of random noise (so most of it is entropy-coded data), then keeps only its first half. */
export async function writeTruncatedJpeg(path: string, width = 64, height = 64): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const noise = new Uint8Array(width * height * 3)
  let s = 12345
  for (let i = 0; i < noise.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    noise[i] = s >>> 24
  }
  const jpeg = await sharp(Buffer.from(noise), { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()
  await writeFile(path, jpeg.subarray(0, Math.floor(jpeg.length / 2)))
}

/** The RGB pixel at (x, y) of image `index` in an HWC byte array of `size`×`size` images. */
export function pixelAt(images: Uint8Array, index: number, size: number, x: number, y: number): [number, number, number] {
  const o = ((index * size + y) * size + x) * 3
  return [images[o], images[o + 1], images[o + 2]]
}

/** Largest per-byte difference between every pixel of image `index` and `rgb`. */
export function maxDeviationFrom(images: Uint8Array, index: number, size: number, rgb: Rgb): number {
  let worst = 0
  const base = index * size * size * 3
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(images[base + p * 3 + c] - rgb[c]))
  }
  return worst
}

/** Number of images per label. */
export function countPerLabel(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0)
  for (const label of labels) counts[label]++
  return counts
}
