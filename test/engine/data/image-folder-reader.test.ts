import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProgressInfo } from '../../../src/engine/data/dataset'
import { readImageFolder, scanImageFolder } from '../../../src/engine/data/image-folder'
import {
  countPerLabel,
  expectDatasetError,
  makeTempDir,
  maxDeviationFrom,
  pixelAt,
  realDataFolder,
  removeDir,
  writeRawImage,
  writeSolidImage,
  writeTruncatedJpeg,
  type Rgb
} from '../../helpers/dataset-fixtures'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const REAL_CIFAR10_JPG = join(REPO_ROOT, '../shared/datasets/cifar10-jpg')

const RED: Rgb = [200, 30, 40]
const GREEN: Rgb = [20, 180, 60]
const BLUE: Rgb = [10, 20, 230]
const WHITE: Rgb = [255, 255, 255]

/** A width×height image in three vertical bands: left, middle, right third. */
function thirds(width: number, height: number, left: Rgb, middle: Rgb, right: Rgb): Uint8Array {
  const data = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < width / 3 ? left : x < (2 * width) / 3 ? middle : right, (y * width + x) * 3)
  }
  return data
}

/** A width×height RGBA image: left half opaque `rgb`, right half fully transparent black. */
function halfTransparent(width: number, height: number, rgb: Rgb): Uint8Array {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (x < width / 2) data.set([...rgb, 255], (y * width + x) * 4)
  }
  return data
}

/** Expects every channel of `actual` within `tolerance` of `expected`. */
function expectColour(actual: number[], expected: Rgb, tolerance: number, what: string): void {
  actual.forEach((v, c) => expect(Math.abs(v - expected[c]), `${what}: got [${actual}], expected about [${expected}]`).toBeLessThanOrEqual(tolerance))
}

let tmp: string
beforeAll(async () => {
  tmp = await makeTempDir('imgfolder')
})
afterAll(async () => {
  await removeDir(tmp)
})

describe('flat image folder (root/<class>/…), all train', () => {
  const root = (): string => join(tmp, 'flat')
  beforeAll(async () => {
    const r = root()
    await writeSolidImage(join(r, 'cat', 'a.png'), 40, 30, RED)
    await writeSolidImage(join(r, 'cat', 'b.JPG'), 64, 48, GREEN) // upper-case extension counts
    await writeRawImage(join(r, 'dog', 'grey.png'), 20, 20, 1, new Uint8Array(400).fill(90)) // 1-channel PNG
    await writeRawImage(join(r, 'dog', 'alpha.png'), 16, 16, 4, halfTransparent(16, 16, BLUE)) // RGBA PNG
    await writeRawImage(join(r, 'dog', 'c.jpeg'), 48, 16, 3, thirds(48, 16, RED, GREEN, BLUE))
    // Ignored: hidden files and folders, non-image files.
    await writeSolidImage(join(r, 'cat', '.hidden.png'), 8, 8, WHITE)
    await writeFile(join(r, 'cat', 'notes.txt'), 'not an image')
    await writeFile(join(r, 'dog', 'Thumbs.db'), 'junk')
    await writeFile(join(r, 'dog', 'photo.jpg.txt'), 'also not an image')
    await writeSolidImage(join(r, '.thumbnails', 'x.png'), 8, 8, WHITE)
    await writeFile(join(r, 'README.md'), '# a dataset')
  })

  it('has the fixtures it claims: a 1-channel greyscale PNG and an RGBA PNG', async () => {
    const grey = await sharp(join(root(), 'dog', 'grey.png')).metadata()
    const alpha = await sharp(join(root(), 'dog', 'alpha.png')).metadata()
    expect([grey.format, grey.channels]).toEqual(['png', 1])
    expect([alpha.format, alpha.channels, alpha.hasAlpha]).toEqual(['png', 4, true])
    expect((await sharp(join(root(), 'cat', 'b.JPG')).metadata()).format).toBe('jpeg')
  })

  it('scans classes and image files without decoding, ignoring hidden and non-image files', async () => {
    const scan = await scanImageFolder(root())
    expect(scan.layout).toBe('flat')
    expect(scan.classNames).toEqual(['cat', 'dog'])
    expect(scan.splits.map((s) => s.split)).toEqual(['train'])
    expect(scan.splits[0].classes.map((c) => [c.name, c.files])).toEqual([
      ['cat', [join(root(), 'cat', 'a.png'), join(root(), 'cat', 'b.JPG')]],
      ['dog', [join(root(), 'dog', 'alpha.png'), join(root(), 'dog', 'c.jpeg'), join(root(), 'dog', 'grey.png')]]
    ])
  })

  it('reads every image as RGB at 32×32, labels by class folder, everything in train', async () => {
    const data = await readImageFolder(root())
    expect(data.id).toBe(`folder:${root()}`)
    expect(data.name).toBe('flat')
    expect(data.classNames).toEqual(['cat', 'dog'])
    expect([data.height, data.width]).toEqual([32, 32])
    expect(data.splits.test).toBeUndefined()
    expect(data.skipped).toEqual([])
    const train = data.splits.train!
    expect(train.sources).toEqual(['cat/a.png', 'cat/b.JPG', 'dog/alpha.png', 'dog/c.jpeg', 'dog/grey.png'].map((f) => join(root(), f)))
    expect(Array.from(train.labels)).toEqual([0, 0, 1, 1, 1])
    expect(train.images.length).toBe(5 * 32 * 32 * 3)

    // Solid PNG: exact colour everywhere after resizing 40×30 → 32×32.
    expect(maxDeviationFrom(train.images, 0, 32, RED)).toBeLessThanOrEqual(1)
    // Solid JPEG: lossy, but close everywhere.
    expect(maxDeviationFrom(train.images, 1, 32, GREEN)).toBeLessThanOrEqual(4)
    // Alpha flattened onto white: left half blue, right half white (away from the resampled edge).
    for (const y of [0, 15, 31]) {
      for (const x of [0, 5, 8]) expectColour(pixelAt(train.images, 2, 32, x, y), BLUE, 2, `alpha.png (${x},${y})`)
      for (const x of [23, 27, 31]) expectColour(pixelAt(train.images, 2, 32, x, y), WHITE, 2, `alpha.png (${x},${y})`)
    }
    // 48×16 red|green|blue stretched (not cropped to its green middle) to 32×32: all three bands.
    expectColour(pixelAt(train.images, 3, 32, 2, 16), RED, 16, 'c.jpeg left')
    expectColour(pixelAt(train.images, 3, 32, 16, 16), GREEN, 16, 'c.jpeg middle')
    expectColour(pixelAt(train.images, 3, 32, 29, 16), BLUE, 16, 'c.jpeg right')
    expectColour(pixelAt(train.images, 3, 32, 2, 0), RED, 16, 'c.jpeg top-left')
    expectColour(pixelAt(train.images, 3, 32, 29, 31), BLUE, 16, 'c.jpeg bottom-right')
    // Greyscale becomes grey RGB.
    expect(maxDeviationFrom(train.images, 4, 32, [90, 90, 90])).toBeLessThanOrEqual(1)
  })

  it('resizes to options.imageSize (64)', async () => {
    const data = await readImageFolder(root(), { imageSize: 64 })
    expect([data.height, data.width]).toEqual([64, 64])
    const train = data.splits.train!
    expect(train.images.length).toBe(5 * 64 * 64 * 3)
    expect(maxDeviationFrom(train.images, 0, 64, RED)).toBeLessThanOrEqual(1)
    expect(maxDeviationFrom(train.images, 4, 64, [90, 90, 90])).toBeLessThanOrEqual(1)
    expectColour(pixelAt(train.images, 2, 64, 10, 40), BLUE, 2, 'alpha.png at 64')
    expectColour(pixelAt(train.images, 2, 64, 55, 40), WHITE, 2, 'alpha.png at 64')
  })

  it('resizes down to a small imageSize (8)', async () => {
    const data = await readImageFolder(root(), { imageSize: 8 })
    expect(data.splits.train!.images.length).toBe(5 * 8 * 8 * 3)
    expect(maxDeviationFrom(data.splits.train!.images, 0, 8, RED)).toBeLessThanOrEqual(1)
  })

  it('keeps only the requested classes, in the requested order', async () => {
    const data = await readImageFolder(root(), { classes: ['dog', 'cat'] })
    expect(data.classNames).toEqual(['dog', 'cat'])
    const train = data.splits.train!
    // Sources stay in folder order; labels follow the requested order.
    expect(Array.from(train.labels)).toEqual([1, 1, 0, 0, 0])
    const only = await readImageFolder(root(), { classes: ['dog'] })
    expect(only.splits.train!.sources.every((s) => s.includes(`${sep}dog${sep}`))).toBe(true)
    expect(Array.from(only.splits.train!.labels)).toEqual([0, 0, 0])
  })
})

describe('train/test image folder (root/train/<class>/…, root/test/<class>/…)', () => {
  const root = (): string => join(tmp, 'split')
  beforeAll(async () => {
    const r = root()
    for (let i = 0; i < 3; i++) await writeSolidImage(join(r, 'train', 'ant', `${i}.png`), 10 + i, 12, RED)
    for (let i = 0; i < 2; i++) await writeSolidImage(join(r, 'train', 'bee', `${i}.jpg`), 30, 20 + i, GREEN)
    await writeSolidImage(join(r, 'test', 'ant', 't0.jpg'), 32, 32, RED)
    await writeSolidImage(join(r, 'test', 'bee', 't0.png'), 50, 50, GREEN)
    await writeSolidImage(join(r, 'test', 'cow', 't0.png'), 7, 9, BLUE) // a class only in test
  })

  it('reads both splits; classes are the sorted union of both splits', async () => {
    const scan = await scanImageFolder(root())
    expect(scan.layout).toBe('split')
    expect(scan.splits.map((s) => s.split)).toEqual(['train', 'test'])

    const data = await readImageFolder(root())
    expect(data.classNames).toEqual(['ant', 'bee', 'cow'])
    expect(Array.from(data.splits.train!.labels)).toEqual([0, 0, 0, 1, 1])
    expect(Array.from(data.splits.test!.labels)).toEqual([0, 1, 2])
    expect(data.splits.test!.sources).toEqual([join(root(), 'test', 'ant', 't0.jpg'), join(root(), 'test', 'bee', 't0.png'), join(root(), 'test', 'cow', 't0.png')])
    expect(maxDeviationFrom(data.splits.train!.images, 4, 32, GREEN)).toBeLessThanOrEqual(4)
    expect(maxDeviationFrom(data.splits.test!.images, 2, 32, BLUE)).toBeLessThanOrEqual(1)
  })

  it('gives only a test split when only root/test exists', async () => {
    const r = join(tmp, 'test-only')
    await writeSolidImage(join(r, 'test', 'ant', 'a.png'), 8, 8, RED)
    const data = await readImageFolder(r)
    expect(Object.keys(data.splits)).toEqual(['test'])
    expect(data.classNames).toEqual(['ant'])
  })

  it('rejects a root mixing split folders and class folders, naming both', async () => {
    const r = join(tmp, 'mixed')
    await writeSolidImage(join(r, 'train', 'ant', 'a.png'), 8, 8, RED)
    await writeSolidImage(join(r, 'bee', 'a.png'), 8, 8, RED)
    await expectDatasetError(readImageFolder(r), r, 'train', 'bee')
  })
})

describe('per-class subsets and progress', () => {
  const root = (): string => join(tmp, 'many')
  beforeAll(async () => {
    for (const cls of ['cat', 'dog']) {
      for (let i = 0; i < 12; i++) await writeSolidImage(join(root(), cls, `${String(i).padStart(2, '0')}.png`), 8, 8, [i * 20, cls === 'cat' ? 0 : 255, 7])
    }
  })

  it('keeps at most maxPerClass per class: same seed same files, another seed other files', async () => {
    const a = await readImageFolder(root(), { maxPerClass: { train: 3 }, seed: 1 })
    const b = await readImageFolder(root(), { maxPerClass: { train: 3 }, seed: 1 })
    const c = await readImageFolder(root(), { maxPerClass: { train: 3 }, seed: 2 })
    expect(countPerLabel(a.splits.train!.labels, 2)).toEqual([3, 3])
    expect(b.splits.train!.sources).toEqual(a.splits.train!.sources)
    expect(Buffer.from(b.splits.train!.images).equals(Buffer.from(a.splits.train!.images))).toBe(true)
    expect(c.splits.train!.sources).not.toEqual(a.splits.train!.sources)
    expect(countPerLabel(c.splits.train!.labels, 2)).toEqual([3, 3])
    // Each kept image is the file its source names (the red channel encodes the file number).
    a.splits.train!.sources.forEach((source, i) => {
      const n = Number(source.slice(-6, -4))
      expect(pixelAt(a.splits.train!.images, i, 32, 16, 16)[0], source).toBe(n * 20)
    })
    // A class's choice does not depend on which other classes are selected.
    const catOnly = await readImageFolder(root(), { classes: ['cat'], maxPerClass: { train: 3 }, seed: 1 })
    expect(catOnly.splits.train!.sources).toEqual(a.splits.train!.sources.filter((s) => s.includes(`${sep}cat${sep}`)))
  })

  it('reports progress: the scan, then decodes counting up to the number of chosen images', async () => {
    const events: ProgressInfo[] = []
    await readImageFolder(root(), { maxPerClass: { train: 5 }, onProgress: (p) => events.push({ ...p }) })
    const scan = events.filter((e) => e.phase === 'scan')
    expect(scan.at(-1)).toEqual({ phase: 'scan', done: 24, total: 24 })
    const decode = events.filter((e) => e.phase === 'decode')
    expect(decode.length).toBeGreaterThan(0)
    expect(decode.every((e) => e.total === 10)).toBe(true) // only the 10 chosen files are decoded
    for (let i = 1; i < decode.length; i++) expect(decode[i].done).toBeGreaterThanOrEqual(decode[i - 1].done)
    expect(decode.at(-1)).toEqual({ phase: 'decode', done: 10, total: 10 })
  })

  it('rejects a bad imageSize, naming the option', async () => {
    await expectDatasetError(readImageFolder(root(), { imageSize: 0 }), 'options.imageSize')
    await expectDatasetError(readImageFolder(root(), { imageSize: 12.5 }), 'options.imageSize')
  })
})

describe('image folder errors and unreadable files', () => {
  it('rejects a missing root, naming it', async () => {
    const r = join(tmp, 'nowhere')
    await expectDatasetError(readImageFolder(r), r, 'not found')
    await expectDatasetError(scanImageFolder(r), r, 'not found')
  })

  it('rejects a root without class folders', async () => {
    const r = join(tmp, 'no-classes')
    await writeSolidImage(join(r, 'loose.png'), 8, 8, RED)
    await expectDatasetError(readImageFolder(r), r, 'no class folders')
  })

  it('rejects an empty class folder (or one with only non-images), naming that folder', async () => {
    const r = join(tmp, 'empty-class')
    await writeSolidImage(join(r, 'cat', 'a.png'), 8, 8, RED)
    await mkdir(join(r, 'dog'), { recursive: true })
    await writeFile(join(r, 'dog', 'readme.txt'), 'no images here')
    const scan = await scanImageFolder(r) // scanning reports it...
    expect(scan.splits[0].classes.find((c) => c.name === 'dog')?.files).toEqual([])
    await expectDatasetError(readImageFolder(r), join(r, 'dog'), 'holds no') // ...reading rejects it
  })

  it('rejects an unknown class name, naming it', async () => {
    const r = join(tmp, 'unknown-class')
    await writeSolidImage(join(r, 'cat', 'a.png'), 8, 8, RED)
    await expectDatasetError(readImageFolder(r, { classes: ['cat', 'zebra'] }), r, '"zebra"')
  })

  describe('a truncated JPEG and a fake image', () => {
    const root = (): string => join(tmp, 'broken')
    beforeAll(async () => {
      const r = root()
      await writeSolidImage(join(r, 'cat', 'a.png'), 8, 8, RED)
      await writeTruncatedJpeg(join(r, 'cat', 'broken.jpg'))
      await writeSolidImage(join(r, 'cat', 'c.png'), 8, 8, GREEN)
      await writeSolidImage(join(r, 'dog', 'a.jpg'), 8, 8, BLUE)
    })

    it('fails by default, naming the truncated file', async () => {
      await expectDatasetError(readImageFolder(root()), join(root(), 'cat', 'broken.jpg'), 'unreadable image')
    })

    it("with onUnreadable: 'skip', lists it in skipped with a reason and loads the rest", async () => {
      const r = root()
      await writeFile(join(r, 'dog', 'fake.jpg'), 'this is text, not a JPEG')
      const events: ProgressInfo[] = []
      const data = await readImageFolder(r, { onUnreadable: 'skip', onProgress: (p) => events.push({ ...p }) })
      expect(data.skipped.map((s) => s.source)).toEqual([join(r, 'cat', 'broken.jpg'), join(r, 'dog', 'fake.jpg')])
      for (const s of data.skipped) expect(s.reason).toMatch(/^unreadable image \(.+\)$/)
      const train = data.splits.train!
      expect(train.sources).toEqual([join(r, 'cat', 'a.png'), join(r, 'cat', 'c.png'), join(r, 'dog', 'a.jpg')])
      expect(Array.from(train.labels)).toEqual([0, 0, 1])
      expect(train.images.length).toBe(3 * 32 * 32 * 3)
      // The images after the dropped one moved up with their labels.
      expect(maxDeviationFrom(train.images, 1, 32, GREEN)).toBeLessThanOrEqual(1)
      expect(maxDeviationFrom(train.images, 2, 32, BLUE)).toBeLessThanOrEqual(4)
      expect(events.filter((e) => e.phase === 'decode').at(-1)).toEqual({ phase: 'decode', done: 5, total: 5 })
    })
  })
})

describe.skipIf(!realDataFolder(REAL_CIFAR10_JPG, 'real cifar10-jpg image-folder test (image-folder-reader.test.ts)'))(
  'readImageFolder on the real cifar10-jpg (read in place)',
  () => {
    it("reads classes ['cat', 'ship'] with maxPerClass {train: 20, test: 5}: 40 + 10 real 32×32 images", async () => {
      const started = performance.now()
      const data = await readImageFolder(REAL_CIFAR10_JPG, { classes: ['cat', 'ship'], maxPerClass: { train: 20, test: 5 } })
      console.info(`decoded 50 cifar10-jpg images in ${(performance.now() - started).toFixed(0)} ms`)
      expect(data.classNames).toEqual(['cat', 'ship'])
      expect([data.height, data.width]).toEqual([32, 32])
      expect(data.skipped).toEqual([])
      const train = data.splits.train!
      const test = data.splits.test!
      expect(train.labels.length).toBe(40)
      expect(test.labels.length).toBe(10)
      expect(train.images.length).toBe(40 * 32 * 32 * 3)
      expect(countPerLabel(train.labels, 2)).toEqual([20, 20])
      expect(countPerLabel(test.labels, 2)).toEqual([5, 5])
      for (const [split, set] of [['train', train], ['test', test]] as const) {
        set.sources.forEach((source, i) => {
          expect(existsSync(source), source).toBe(true)
          const cls = ['cat', 'ship'][set.labels[i]]
          expect(source.startsWith(join(REAL_CIFAR10_JPG, split, cls) + sep), `${source} has label ${set.labels[i]}`).toBe(true)
        })
      }
      // A 32×32 JPEG is decoded as is: same bytes as decoding it directly.
      const direct = await sharp(test.sources[0]).removeAlpha().raw().toBuffer()
      expect(Buffer.from(test.images.subarray(0, 32 * 32 * 3)).equals(direct)).toBe(true)
    })
  }
)
