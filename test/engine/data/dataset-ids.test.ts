import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCifar10 } from '../../../src/engine/data/cifar-binary'
import { DatasetError } from '../../../src/engine/data/dataset'
import { DEMO_CLASS_NAMES, generateDemoDataset } from '../../../src/engine/data/demo-dataset'
import {
  detectDatasetId,
  discoverDatasets,
  loadDataset,
  parseDatasetId,
  readDatasetClassNames
} from '../../../src/engine/data/load-dataset'
import {
  countPerLabel,
  cyclicLabels,
  expectDatasetError,
  makeTempDir,
  realDataFolder,
  removeDir,
  writeCifar100Dir,
  writeCifar10Dir,
  writeSolidImage
} from '../../helpers/dataset-fixtures'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const REAL_DATASETS = join(REPO_ROOT, '../shared/datasets')

const ID_FORMS = ['demo', 'cifar10:<dir>', 'cifar100:<dir>', 'cifar100-coarse:<dir>', 'folder:<dir>']
const C10_NAMES = ['ant', 'bee', 'cow']
const FINE = ['apple', 'rose', 'whale']
const COARSE = ['plant', 'animal']

let tmp: string
/** Folders made by single tests, kept out of tmp so discovering tmp sees only the fixed layout. */
let scratch: string
/** tmp/c10: CIFAR-10; tmp/c100: CIFAR-100; tmp/pics: flat image folder; tmp/split-pics: train/test folder. */
let c10: string
let c100: string
let pics: string
let splitPics: string

beforeAll(async () => {
  tmp = await makeTempDir('ids')
  scratch = await makeTempDir('ids-scratch')
  c10 = join(tmp, 'c10')
  c100 = join(tmp, 'c100')
  pics = join(tmp, 'pics')
  splitPics = join(tmp, 'split-pics')
  await writeCifar10Dir(c10, C10_NAMES, { 'data_batch_1.bin': cyclicLabels(12, 3), 'test_batch.bin': cyclicLabels(6, 3) })
  await writeCifar100Dir(c100, FINE, COARSE, {
    'train.bin': [
      [0, 0],
      [0, 1],
      [1, 2]
    ]
  })
  await writeSolidImage(join(pics, 'zebra', 'a.png'), 10, 10, [0, 0, 0])
  await writeSolidImage(join(pics, 'zebra', 'b.jpg'), 12, 8, [250, 250, 250])
  await writeSolidImage(join(pics, 'yak', 'a.png'), 20, 20, [120, 80, 40])
  await writeSolidImage(join(splitPics, 'train', 'x', 'a.png'), 8, 8, [1, 2, 3])
  await writeSolidImage(join(splitPics, 'test', 'x', 'a.png'), 8, 8, [1, 2, 3])
  // Not datasets: a folder of text files, an empty folder, a hidden copy of a dataset, a loose file.
  await mkdir(join(tmp, 'notes'))
  await writeFile(join(tmp, 'notes', 'todo.txt'), 'nothing to see')
  await mkdir(join(tmp, 'empty'))
  await writeCifar10Dir(join(tmp, '.hidden-c10'), C10_NAMES, { 'test_batch.bin': [0] })
  await writeFile(join(tmp, 'readme.txt'), 'loose file')
})
afterAll(async () => {
  await removeDir(tmp)
  await removeDir(scratch)
})

describe('parseDatasetId', () => {
  it('parses every form, resolving folders to absolute paths', () => {
    expect(parseDatasetId('demo')).toEqual({ kind: 'demo' })
    expect(parseDatasetId('cifar10:/data/cifar-10-batches-bin')).toEqual({ kind: 'cifar10', dir: '/data/cifar-10-batches-bin' })
    expect(parseDatasetId('cifar100:/data/cifar-100-binary')).toEqual({ kind: 'cifar100', dir: '/data/cifar-100-binary' })
    expect(parseDatasetId('cifar100-coarse:/data/cifar-100-binary')).toEqual({ kind: 'cifar100-coarse', dir: '/data/cifar-100-binary' })
    expect(parseDatasetId('folder:/data/photos')).toEqual({ kind: 'folder', dir: '/data/photos' })
  })

  it('resolves relative folders against the working directory and normalizes them', () => {
    expect(parseDatasetId('folder:photos/pets')).toEqual({ kind: 'folder', dir: resolve(process.cwd(), 'photos/pets') })
    expect(parseDatasetId('cifar10:./a/../b/')).toEqual({ kind: 'cifar10', dir: resolve(process.cwd(), 'b') })
    // Only the first colon separates the kind: the folder may contain colons.
    expect(parseDatasetId('folder:/data/run:2')).toEqual({ kind: 'folder', dir: '/data/run:2' })
  })

  it.each(['', 'Demo', 'demo:', 'demo:/x', 'cifar10', 'cifar10:', 'CIFAR10:/x', 'imagenet:/x', ':/x', 'folder', ' folder:/x'])(
    'rejects %j with an error naming it and listing the valid forms',
    async (id) => {
      const error = await expectDatasetError(() => parseDatasetId(id), ...ID_FORMS)
      expect(error.source).toBe(id)
      expect(error.message.startsWith(`${id}: `)).toBe(true)
    }
  )
})

describe('loadDataset dispatches on the id', () => {
  it('demo: the generated demo dataset, honouring classes and maxPerClass', async () => {
    const options = { classes: ['ring', 'disc'], maxPerClass: { train: 4, test: 2 } }
    const data = await loadDataset('demo', options)
    expect(data.id).toBe('demo')
    expect(data.classNames).toEqual(['ring', 'disc'])
    expect(countPerLabel(data.splits.train!.labels, 2)).toEqual([4, 4])
    expect(countPerLabel(data.splits.test!.labels, 2)).toEqual([2, 2])
    const direct = generateDemoDataset(options)
    expect(Buffer.from(data.splits.train!.images).equals(Buffer.from(direct.splits.train!.images))).toBe(true)
  })

  it('cifar10:<dir> (relative): the CIFAR-10 reader, options passed through, absolute id', async () => {
    const data = await loadDataset(`cifar10:${relative(process.cwd(), c10)}`, { classes: ['cow', 'ant'], maxPerClass: { train: 2 } })
    expect(data.id).toBe(`cifar10:${c10}`)
    expect(data.name).toBe('CIFAR-10')
    expect(data.classNames).toEqual(['cow', 'ant'])
    expect(countPerLabel(data.splits.train!.labels, 2)).toEqual([2, 2])
    expect(countPerLabel(data.splits.test!.labels, 2)).toEqual([2, 2])
    const direct = await readCifar10(c10, { classes: ['cow', 'ant'], maxPerClass: { train: 2 } })
    expect(data.splits.train!.sources).toEqual(direct.splits.train!.sources)
  })

  it('cifar100:<dir> and cifar100-coarse:<dir>: fine and coarse labels', async () => {
    const fine = await loadDataset(`cifar100:${c100}`)
    expect(fine.id).toBe(`cifar100:${c100}`)
    expect(fine.classNames).toEqual(FINE)
    expect(Array.from(fine.splits.train!.labels)).toEqual([0, 1, 2])
    const coarse = await loadDataset(`cifar100-coarse:${c100}`)
    expect(coarse.id).toBe(`cifar100-coarse:${c100}`)
    expect(coarse.classNames).toEqual(COARSE)
    expect(Array.from(coarse.splits.train!.labels)).toEqual([0, 0, 1])
  })

  it('folder:<dir>: the image-folder reader, imageSize passed through', async () => {
    const data = await loadDataset(`folder:${pics}`, { imageSize: 16 })
    expect(data.id).toBe(`folder:${pics}`)
    expect(data.classNames).toEqual(['yak', 'zebra'])
    expect([data.height, data.width]).toEqual([16, 16])
    expect(data.splits.train!.images.length).toBe(3 * 16 * 16 * 3)
    expect(Array.from(data.splits.train!.labels)).toEqual([0, 1, 1])
  })

  it("a reader's error and a bad id come back as DatasetErrors", async () => {
    await expectDatasetError(loadDataset(`folder:${join(tmp, 'missing')}`), join(tmp, 'missing'), 'not found')
    await expectDatasetError(loadDataset(`cifar10:${pics}`), pics, 'no CIFAR-10 batch files')
    await expectDatasetError(loadDataset('cifar-10:/x'), 'cifar-10:/x', 'folder:<dir>')
  })
})

describe('readDatasetClassNames reads names without reading images', () => {
  it('demo: the demo class names (a copy)', async () => {
    const names = await readDatasetClassNames('demo')
    expect(names).toEqual([...DEMO_CLASS_NAMES])
    names.pop()
    expect(await readDatasetClassNames('demo')).toHaveLength(10)
  })

  it('cifar10: from batches.meta.txt even when no batch file is there to read', async () => {
    const namesOnly = join(scratch, 'names-only')
    await writeCifar10Dir(namesOnly, ['one', 'two'], {})
    expect(await readDatasetClassNames(`cifar10:${namesOnly}`)).toEqual(['one', 'two'])
    await expectDatasetError(loadDataset(`cifar10:${namesOnly}`), 'no CIFAR-10 batch files') // loading does need them
    expect(await readDatasetClassNames(`cifar10:${c10}`)).toEqual(C10_NAMES)
  })

  it('cifar100 / cifar100-coarse: from the fine / coarse names file', async () => {
    expect(await readDatasetClassNames(`cifar100:${c100}`)).toEqual(FINE)
    expect(await readDatasetClassNames(`cifar100-coarse:${c100}`)).toEqual(COARSE)
  })

  it('folder: the class folders, even when no image in them could be decoded', async () => {
    const undecodable = join(scratch, 'undecodable')
    await mkdir(join(undecodable, 'b-class'), { recursive: true })
    await mkdir(join(undecodable, 'a-class'), { recursive: true })
    await writeFile(join(undecodable, 'b-class', 'x.jpg'), 'not a jpeg')
    await writeFile(join(undecodable, 'a-class', 'y.png'), 'not a png')
    expect(await readDatasetClassNames(`folder:${undecodable}`)).toEqual(['a-class', 'b-class'])
    await expectDatasetError(loadDataset(`folder:${undecodable}`), 'unreadable image') // decoding fails
    expect(await readDatasetClassNames(`folder:${splitPics}`)).toEqual(['x'])
  })

  it('rejects a missing names file, naming it', async () => {
    await expectDatasetError(readDatasetClassNames(`cifar10:${pics}`), join(pics, 'batches.meta.txt'), 'missing')
  })
})

describe('detectDatasetId', () => {
  it('recognizes CIFAR-10, CIFAR-100 and image folders (flat and train/test), returning absolute ids', async () => {
    expect(await detectDatasetId(c10)).toBe(`cifar10:${c10}`)
    expect(await detectDatasetId(relative(process.cwd(), c10))).toBe(`cifar10:${c10}`)
    expect(await detectDatasetId(c100)).toBe(`cifar100:${c100}`)
    expect(await detectDatasetId(pics)).toBe(`folder:${pics}`)
    expect(await detectDatasetId(splitPics)).toBe(`folder:${splitPics}`)
  })

  it('returns undefined for folders that are no dataset, and for missing paths', async () => {
    expect(await detectDatasetId(join(tmp, 'notes'))).toBeUndefined()
    expect(await detectDatasetId(join(tmp, 'empty'))).toBeUndefined()
    expect(await detectDatasetId(join(tmp, 'missing'))).toBeUndefined()
    expect(await detectDatasetId(join(tmp, 'readme.txt'))).toBeUndefined()
    const namesOnly = join(scratch, 'meta-only')
    await writeCifar10Dir(namesOnly, ['a'], {}) // names file but no batch file
    expect(await detectDatasetId(namesOnly)).toBeUndefined()
  })
})

describe('discoverDatasets', () => {
  it('finds each dataset among the subfolders (not hidden ones), plus demo, described without reading images', async () => {
    const found = await discoverDatasets([tmp])
    const byId = new Map(found.map((d) => [d.id, d]))
    expect([...byId.keys()].sort()).toEqual(
      ['demo', `cifar10:${c10}`, `cifar100:${c100}`, `folder:${pics}`, `folder:${splitPics}`].sort()
    )
    expect(found.length).toBe(5) // no duplicates
    expect(found[0].id).toBe('demo')
    expect(byId.get('demo')).toEqual({ id: 'demo', kind: 'demo', name: 'Demo patterns', location: null, classNames: [...DEMO_CLASS_NAMES] })
    expect(byId.get(`cifar10:${c10}`)).toEqual({ id: `cifar10:${c10}`, kind: 'cifar10', name: 'CIFAR-10 (c10)', location: c10, classNames: C10_NAMES })
    expect(byId.get(`cifar100:${c100}`)).toMatchObject({ kind: 'cifar100', location: c100, classNames: FINE })
    expect(byId.get(`folder:${pics}`)).toEqual({ id: `folder:${pics}`, kind: 'folder', name: 'Image folder (pics)', location: pics, classNames: ['yak', 'zebra'] })
  })

  it('takes a folder that is itself a dataset as that dataset, without looking inside it', async () => {
    // split-pics/train would itself pass for a flat image folder: it must not be listed.
    const found = await discoverDatasets([c10, splitPics, pics, c10])
    expect(found.map((d) => d.id)).toEqual(['demo', `cifar10:${c10}`, `folder:${splitPics}`, `folder:${pics}`])
  })

  it('always includes demo: with no folders, and with missing folders', async () => {
    expect((await discoverDatasets([])).map((d) => d.id)).toEqual(['demo'])
    expect((await discoverDatasets([join(tmp, 'missing'), join(tmp, 'empty')])).map((d) => d.id)).toEqual(['demo'])
  })

  it('propagates a broken dataset as an error naming it (here, a repeated class name)', async () => {
    const parent = join(scratch, 'with-broken')
    await writeCifar10Dir(join(parent, 'broken'), ['a', 'a'], { 'test_batch.bin': [0] })
    const error = await discoverDatasets([parent]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatasetError)
    expect((error as DatasetError).message).toContain(join(parent, 'broken', 'batches.meta.txt'))
  })
})

describe.skipIf(!realDataFolder(REAL_DATASETS, 'discovering the real datasets (dataset-ids.test.ts)'))(
  'discoverDatasets on the real shared datasets folder (read in place)',
  () => {
    it('finds cifar-10-batches-bin as cifar10 and cifar10-jpg as an image folder', async () => {
      const found = await discoverDatasets([REAL_DATASETS])
      const ids = found.map((d) => d.id)
      const cifar = `cifar10:${join(REAL_DATASETS, 'cifar-10-batches-bin')}`
      const jpg = `folder:${join(REAL_DATASETS, 'cifar10-jpg')}`
      expect(ids).toContain('demo')
      expect(ids).toContain(cifar)
      expect(ids).toContain(jpg)
      const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
      expect(found.find((d) => d.id === cifar)?.classNames).toEqual(names)
      expect(found.find((d) => d.id === jpg)?.classNames).toEqual(names)
    })
  }
)
