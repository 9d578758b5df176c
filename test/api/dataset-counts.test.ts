import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inspectDataset } from '../../src/engine/api/dataset-handlers'

// An image folder outside the library shows how many images each class has (issue 18, item 8): the
// engine counts the files of every class and split without decoding them.
let root = ''

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wb-counts-'))
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer()
  const layout: Record<string, number> = { 'train/cat': 3, 'train/dog': 2, 'test/cat': 1, 'test/dog': 4 }
  for (const [dir, count] of Object.entries(layout)) {
    await mkdir(join(root, dir), { recursive: true })
    for (let i = 0; i < count; i++) await writeFile(join(root, dir, `${i}.png`), png)
  }
  await writeFile(join(root, 'train', 'cat', 'notes.txt'), 'not an image')
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('dataset details', () => {
  it('count an image folder’s images per class and split, reading only the samples', async () => {
    const details = await inspectDataset({ id: `folder:${root}`, samplesPerClass: 1 })
    expect(details.classes.map((c) => [c.name, c.counts, c.samples.length])).toEqual([
      ['cat', { train: 3, test: 1 }, 1],
      ['dog', { train: 2, test: 4 }, 1]
    ])
  })

  it('leave counts out where the library or the kind knows them', async () => {
    const details = await inspectDataset({ id: 'demo', samplesPerClass: 1 })
    expect(details.classes.every((c) => c.counts === undefined)).toBe(true)
  })
})
