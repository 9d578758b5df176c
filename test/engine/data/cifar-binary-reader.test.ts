import { open, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCifar10, readCifar100, readClassNames } from '../../../src/engine/data/cifar-binary'
import type { ImageSet } from '../../../src/engine/data/dataset'
import {
  CIFAR_IMAGE_BYTES,
  CIFAR_PIXELS,
  cifarFileBytes,
  countPerLabel,
  cyclicLabels,
  expectDatasetError,
  expectedCifarImage,
  makeTempDir,
  realDataFolder,
  removeDir,
  writeCifar100Dir,
  writeCifar10Dir
} from '../../helpers/dataset-fixtures'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const REAL_CIFAR10_BIN = join(REPO_ROOT, '../shared/datasets/cifar-10-batches-bin')

const NAMES = ['airplane', 'automobile', 'bird', 'cat']

/** Parses a CIFAR source `path#record` into its file name and record index. */
function parseSource(source: string): { file: string; record: number } {
  const hash = source.lastIndexOf('#')
  return { file: basename(source.slice(0, hash)), record: Number(source.slice(hash + 1)) }
}

/** Every image of the set equals the bytes written for the record its source names. */
function expectImagesMatchSources(set: ImageSet): void {
  expect(set.images.length).toBe(set.labels.length * CIFAR_IMAGE_BYTES)
  expect(set.sources.length).toBe(set.labels.length)
  set.sources.forEach((source, i) => {
    const { file, record } = parseSource(source)
    const actual = set.images.subarray(i * CIFAR_IMAGE_BYTES, (i + 1) * CIFAR_IMAGE_BYTES)
    // toEqual on 3,072-byte arrays gives unreadable diffs; compare and name the image instead.
    expect(Buffer.from(actual).equals(Buffer.from(expectedCifarImage(file, record))), `image ${i} (${source})`).toBe(true)
  })
}

let tmp: string
beforeAll(async () => {
  tmp = await makeTempDir('cifar')
})
afterAll(async () => {
  await removeDir(tmp)
})

describe('readCifar10 on synthetic files', () => {
  it('puts the R, G and B planes of a record at the right HWC positions', async () => {
    const dir = join(tmp, 'planes')
    // One hand-made record: label 2, all planes zero except three marked bytes.
    const record = new Uint8Array(1 + CIFAR_IMAGE_BYTES)
    record[0] = 2
    const at = (plane: number, x: number, y: number): number => 1 + plane * CIFAR_PIXELS + y * 32 + x
    record[at(0, 2, 1)] = 200 // R at x=2, y=1
    record[at(1, 0, 31)] = 150 // G at x=0, y=31 (first pixel of the last row)
    record[at(2, 31, 0)] = 99 // B at x=31, y=0 (last pixel of the first row)
    record[at(0, 31, 31)] = 7 // R, G, B at the very last pixel
    record[at(1, 31, 31)] = 8
    record[at(2, 31, 31)] = 9
    await writeCifar10Dir(dir, NAMES, {})
    await writeFile(join(dir, 'test_batch.bin'), record)

    const data = await readCifar10(dir)
    const images = data.splits.test!.images
    const px = (x: number, y: number): number[] => Array.from(images.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3))
    expect(px(2, 1)).toEqual([200, 0, 0])
    expect(px(0, 31)).toEqual([0, 150, 0])
    expect(px(31, 0)).toEqual([0, 0, 99])
    expect(px(31, 31)).toEqual([7, 8, 9])
    expect(px(1, 2)).toEqual([0, 0, 0]) // the transposed position of the R mark stays empty
    expect(images.reduce((sum, v) => sum + v, 0)).toBe(200 + 150 + 99 + 7 + 8 + 9)
    expect(Array.from(data.splits.test!.labels)).toEqual([2])
    expect(data.height).toBe(32)
    expect(data.width).toBe(32)
  })

  it('reads every record of every batch, labels indexing the names in batches.meta.txt', async () => {
    const dir = join(tmp, 'full')
    const train1 = [3, 0, 1, 2, 3, 3]
    const train2 = [1, 1, 0]
    const test = [2, 0, 3]
    await writeCifar10Dir(dir, NAMES, { 'data_batch_1.bin': train1, 'data_batch_2.bin': train2, 'test_batch.bin': test })

    const data = await readCifar10(dir)
    expect(data.id).toBe(`cifar10:${dir}`)
    expect(data.name).toBe('CIFAR-10')
    expect(data.classNames).toEqual(NAMES)
    expect(data.skipped).toEqual([])
    const train = data.splits.train!
    expect(Array.from(train.labels)).toEqual([...train1, ...train2])
    expect(train.sources).toEqual([
      ...train1.map((_, r) => `${join(dir, 'data_batch_1.bin')}#${r}`),
      ...train2.map((_, r) => `${join(dir, 'data_batch_2.bin')}#${r}`)
    ])
    expect(Array.from(data.splits.test!.labels)).toEqual(test)
    expect(data.classNames[train.labels[0]]).toBe('cat')
    expectImagesMatchSources(train)
    expectImagesMatchSources(data.splits.test!)
  })

  it('with a names file using CRLF and blank lines, still reads one name per line', async () => {
    const dir = join(tmp, 'crlf')
    await writeCifar10Dir(dir, null, { 'test_batch.bin': [1, 0] })
    await writeFile(join(dir, 'batches.meta.txt'), 'ant\r\n\r\nbee\r\n\r\n')
    expect(await readClassNames(join(dir, 'batches.meta.txt'))).toEqual(['ant', 'bee'])
    const data = await readCifar10(dir)
    expect(data.classNames).toEqual(['ant', 'bee'])
  })

  it('keeps only the requested classes, relabelled in the requested order', async () => {
    const dir = join(tmp, 'classes')
    const labels = [0, 1, 2, 3, 3, 2, 1, 0, 3]
    await writeCifar10Dir(dir, NAMES, { 'data_batch_1.bin': labels })

    const data = await readCifar10(dir, { classes: ['cat', 'airplane'] })
    expect(data.classNames).toEqual(['cat', 'airplane'])
    const train = data.splits.train!
    // Records 0 (airplane), 3, 4 (cat), 7 (airplane), 8 (cat), in file order.
    expect(train.sources.map((s) => parseSource(s).record)).toEqual([0, 3, 4, 7, 8])
    expect(Array.from(train.labels)).toEqual([1, 0, 0, 1, 0])
    expectImagesMatchSources(train)
  })

  describe('maxPerClass with a seed', () => {
    // Two files of 1,100 records each: more than one 1,024-record read chunk per file.
    const dir = (): string => join(tmp, 'subset')
    beforeAll(async () => {
      await writeCifar10Dir(dir(), NAMES.slice(0, 3), {
        'data_batch_1.bin': cyclicLabels(1100, 3),
        'data_batch_2.bin': cyclicLabels(1100, 3).reverse(),
        'test_batch.bin': cyclicLabels(30, 3)
      })
    })

    it('keeps at most N per class and split, the right bytes for each kept record', async () => {
      const data = await readCifar10(dir(), { maxPerClass: { train: 5, test: 2 }, seed: 7 })
      const train = data.splits.train!
      expect(countPerLabel(train.labels, 3)).toEqual([5, 5, 5])
      expect(countPerLabel(data.splits.test!.labels, 3)).toEqual([2, 2, 2])
      // Labels agree with the records they came from.
      train.sources.forEach((source, i) => {
        const { file, record } = parseSource(source)
        const written = file === 'data_batch_1.bin' ? cyclicLabels(1100, 3) : cyclicLabels(1100, 3).reverse()
        expect(train.labels[i], source).toBe(written[record])
      })
      expectImagesMatchSources(train)
      expectImagesMatchSources(data.splits.test!)
    })

    it('chooses the same records for the same seed and different ones for another seed', async () => {
      const a = await readCifar10(dir(), { maxPerClass: { train: 5 }, seed: 7 })
      const b = await readCifar10(dir(), { maxPerClass: { train: 5 }, seed: 7 })
      const c = await readCifar10(dir(), { maxPerClass: { train: 5 }, seed: 8 })
      expect(b.splits.train!.sources).toEqual(a.splits.train!.sources)
      expect(Buffer.from(b.splits.train!.images).equals(Buffer.from(a.splits.train!.images))).toBe(true)
      expect(c.splits.train!.sources).not.toEqual(a.splits.train!.sources)
      expect(countPerLabel(c.splits.train!.labels, 3)).toEqual([5, 5, 5])
      // A limit only on train leaves test whole.
      expect(a.splits.test!.labels.length).toBe(30)
    })

    it('keeps every record of a class with fewer than N', async () => {
      const data = await readCifar10(dir(), { maxPerClass: { test: 500 } })
      expect(countPerLabel(data.splits.test!.labels, 3)).toEqual([10, 10, 10])
    })
  })

  it('gives only a test split for a folder holding only test_batch.bin', async () => {
    const dir = join(tmp, 'test-only')
    await writeCifar10Dir(dir, NAMES, { 'test_batch.bin': [0, 1, 2, 3] })
    const data = await readCifar10(dir)
    expect(Object.keys(data.splits)).toEqual(['test'])
    expect(data.splits.train).toBeUndefined()
    expect(Array.from(data.splits.test!.labels)).toEqual([0, 1, 2, 3])
  })
})

describe('readCifar100 on synthetic files', () => {
  const fine = ['apple', 'bee', 'rose', 'tulip', 'whale']
  const coarse = ['fruit', 'insect', 'flower', 'mammal']
  // [coarse, fine]
  const train: [number, number][] = [
    [0, 0],
    [2, 3],
    [1, 1],
    [3, 4],
    [2, 2]
  ]
  const test: [number, number][] = [
    [3, 4],
    [2, 2]
  ]
  const dir = (): string => join(tmp, 'c100')
  beforeAll(async () => {
    await writeCifar100Dir(dir(), fine, coarse, { 'train.bin': train, 'test.bin': test })
  })

  it('uses the fine labels by default', async () => {
    const data = await readCifar100(dir())
    expect(data.id).toBe(`cifar100:${dir()}`)
    expect(data.classNames).toEqual(fine)
    expect(Array.from(data.splits.train!.labels)).toEqual(train.map(([, f]) => f))
    expect(Array.from(data.splits.test!.labels)).toEqual(test.map(([, f]) => f))
    // The two label bytes are skipped: pixels start right after them.
    expectImagesMatchSources(data.splits.train!)
    expectImagesMatchSources(data.splits.test!)
  })

  it("uses the coarse labels and names with labels: 'coarse'", async () => {
    const data = await readCifar100(dir(), { labels: 'coarse' })
    expect(data.id).toBe(`cifar100-coarse:${dir()}`)
    expect(data.classNames).toEqual(coarse)
    expect(Array.from(data.splits.train!.labels)).toEqual(train.map(([c]) => c))
    expect(Array.from(data.splits.test!.labels)).toEqual(test.map(([c]) => c))
    expectImagesMatchSources(data.splits.train!)
  })

  it('selects coarse classes by their coarse names', async () => {
    const data = await readCifar100(dir(), { labels: 'coarse', classes: ['flower'] })
    expect(data.classNames).toEqual(['flower'])
    expect(data.splits.train!.sources.map((s) => parseSource(s).record)).toEqual([1, 4])
    expect(Array.from(data.splits.train!.labels)).toEqual([0, 0])
  })

  it('rejects a fine label beyond the fine names (even if the coarse one is fine)', async () => {
    const bad = join(tmp, 'c100-bad')
    await writeCifar100Dir(bad, fine, coarse, { 'train.bin': [[0, 0], [1, 5]] })
    await expectDatasetError(readCifar100(bad), 'train.bin', 'record 1', 'label byte 5')
    // The coarse reading of the same file is valid.
    const data = await readCifar100(bad, { labels: 'coarse' })
    expect(Array.from(data.splits.train!.labels)).toEqual([0, 1])
  })
})

describe('CIFAR reader errors', () => {
  it('rejects a file whose length is not a multiple of the record size, naming the file', async () => {
    const dir = join(tmp, 'partial')
    await writeCifar10Dir(dir, NAMES, {})
    const bytes = cifarFileBytes('data_batch_1.bin', [[0], [1]])
    await writeFile(join(dir, 'data_batch_1.bin'), bytes.subarray(0, bytes.length - 100))
    await expectDatasetError(readCifar10(dir), join(dir, 'data_batch_1.bin'), 'not a multiple', '3073-byte record')
  })

  it('rejects a CIFAR-10 file as CIFAR-100 by its record size', async () => {
    const dir = join(tmp, 'c10-as-c100')
    await writeCifar100Dir(dir, ['a', 'b'], ['x'], {})
    // Three 3,073-byte records are not a whole number of 3,074-byte ones.
    await writeFile(join(dir, 'test.bin'), cifarFileBytes('test.bin', [[0], [1], [0]]))
    await expectDatasetError(readCifar100(dir), 'test.bin', '3074-byte record')
  })

  it('rejects a label byte out of range, naming the file, the record index and the value', async () => {
    const dir = join(tmp, 'bad-label')
    const labels = cyclicLabels(1100, 4)
    labels[1050] = 12 // in the second read chunk, to check the index is file-wide
    await writeCifar10Dir(dir, NAMES, { 'data_batch_3.bin': labels })
    const error = await expectDatasetError(readCifar10(dir), join(dir, 'data_batch_3.bin'), /record 1050\b/, /label byte 12\b/)
    expect(error.message).toContain('4 classes')
  })

  it('rejects a folder without its names file, naming the missing file', async () => {
    const dir = join(tmp, 'no-names')
    await writeCifar10Dir(dir, null, { 'test_batch.bin': [0] })
    await expectDatasetError(readCifar10(dir), join(dir, 'batches.meta.txt'), 'missing')
    const c100 = join(tmp, 'no-fine-names')
    await writeCifar100Dir(c100, ['a'], ['x'], { 'test.bin': [[0, 0]] })
    await writeFile(join(c100, 'fine_label_names.txt'), '\n  \n')
    await expectDatasetError(readCifar100(c100), 'fine_label_names.txt', 'no names')
  })

  it('rejects a folder with no batch files at all, naming the folder and the expected files', async () => {
    const dir = join(tmp, 'no-batches')
    await writeCifar10Dir(dir, NAMES, {})
    await writeFile(join(dir, 'data_batch_6.bin'), cifarFileBytes('x', [[0]])) // not a CIFAR-10 name
    await expectDatasetError(readCifar10(dir), dir, 'no CIFAR-10 batch files', 'data_batch_1.bin', 'test_batch.bin')
    await expectDatasetError(readCifar100(dir), dir, 'no CIFAR-100 batch files', 'train.bin')
  })

  it('rejects a missing folder, naming it', async () => {
    const dir = join(tmp, 'does-not-exist')
    await expectDatasetError(readCifar10(dir), dir, 'not found')
  })

  it('rejects an unknown class name, naming it and the valid ones', async () => {
    const dir = join(tmp, 'unknown-class')
    await writeCifar10Dir(dir, NAMES, { 'test_batch.bin': [0, 1] })
    await expectDatasetError(readCifar10(dir, { classes: ['cat', 'zebra'] }), '"zebra"', 'airplane, automobile, bird, cat')
  })

  it('rejects a repeated class name in the names file', async () => {
    const dir = join(tmp, 'repeated-name')
    await writeCifar10Dir(dir, ['a', 'b', 'a'], { 'test_batch.bin': [0] })
    await expectDatasetError(readCifar10(dir), 'batches.meta.txt', '"a" appears twice')
  })
})

describe.skipIf(!realDataFolder(REAL_CIFAR10_BIN, 'real CIFAR-10 binary test (cifar-binary-reader.test.ts)'))(
  'readCifar10 on the real test_batch.bin (read in place)',
  () => {
    it('reads 10,000 32×32 test images, exactly 1,000 per class, classes airplane…truck in order', async () => {
      const started = performance.now()
      const data = await readCifar10(REAL_CIFAR10_BIN)
      console.info(`read real test_batch.bin (10,000 records) in ${(performance.now() - started).toFixed(0)} ms`)
      expect(data.classNames).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'])
      expect(data.height).toBe(32)
      expect(data.width).toBe(32)
      expect(data.splits.train).toBeUndefined()
      const test = data.splits.test!
      expect(test.labels.length).toBe(10_000)
      expect(test.images.length).toBe(10_000 * 32 * 32 * 3)
      expect(countPerLabel(test.labels, 10)).toEqual(new Array(10).fill(1000))
      expect(test.sources[9999]).toBe(`${join(REAL_CIFAR10_BIN, 'test_batch.bin')}#9999`)

      // The first and last records, read straight from the file, land planar → HWC.
      const handle = await open(join(REAL_CIFAR10_BIN, 'test_batch.bin'), 'r')
      try {
        for (const record of [0, 9999]) {
          const raw = new Uint8Array(3073)
          await handle.read(raw, 0, 3073, record * 3073)
          expect(test.labels[record]).toBe(raw[0])
          for (const p of [0, 1, 33, 512, 1023]) {
            const hwc = Array.from(test.images.subarray((record * 1024 + p) * 3, (record * 1024 + p) * 3 + 3))
            expect(hwc, `record ${record} pixel ${p}`).toEqual([raw[1 + p], raw[1 + 1024 + p], raw[1 + 2048 + p]])
          }
        }
      } finally {
        await handle.close()
      }
    })
  }
)
