import { beforeAll, describe, expect, it } from 'vitest'
import type { ImageDataset, ImageSet } from '../../../src/engine/data/dataset'
import { DEMO_CLASS_NAMES, generateDemoDataset } from '../../../src/engine/data/demo-dataset'
import { countPerLabel, expectDatasetError } from '../../helpers/dataset-fixtures'

const SIDE = 32
const PIXELS = SIDE * SIDE
const IMAGE_BYTES = PIXELS * 3

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b))
const imageOf = (set: ImageSet, i: number): Uint8Array => set.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES)

describe('demo dataset: shape, counts and determinism', () => {
  it('has 10 distinct class names, in label order', () => {
    expect(DEMO_CLASS_NAMES.length).toBe(10)
    expect(new Set(DEMO_CLASS_NAMES).size).toBe(10)
    for (const name of DEMO_CLASS_NAMES) expect(name).toMatch(/^[a-z][a-z-]*$/)
    const data = generateDemoDataset({ perClass: 1, testPerClass: 1 })
    expect(data.classNames).toEqual([...DEMO_CLASS_NAMES])
    expect(data.id).toBe('demo')
    expect([data.height, data.width]).toEqual([32, 32])
  })

  it('gives identical bytes for the same seed and different bytes for another seed', () => {
    const options = { perClass: 20, testPerClass: 5 }
    const a = generateDemoDataset({ ...options, seed: 5 })
    const b = generateDemoDataset({ ...options, seed: 5 })
    const c = generateDemoDataset({ ...options, seed: 6 })
    const d = generateDemoDataset(options) // default seed
    for (const split of ['train', 'test'] as const) {
      expect(same(a.splits[split]!.images, b.splits[split]!.images), split).toBe(true)
      expect(a.splits[split]!.labels).toEqual(b.splits[split]!.labels)
      expect(same(a.splits[split]!.images, c.splits[split]!.images), split).toBe(false)
      expect(same(a.splits[split]!.images, d.splits[split]!.images), split).toBe(false)
    }
    // Not only different as a whole: no single image repeats across seeds.
    const train = a.splits.train!
    for (let i = 0; i < train.labels.length; i++) expect(same(imageOf(train, i), imageOf(c.splits.train!, i)), `image ${i}`).toBe(false)
    // Nor within a dataset, nor between train and test.
    const seen = new Set<string>()
    for (const set of [a.splits.train!, a.splits.test!]) {
      for (let i = 0; i < set.labels.length; i++) seen.add(Buffer.from(imageOf(set, i)).toString('base64'))
    }
    expect(seen.size).toBe(200 + 50)
  })

  it('honours classes (label order as requested) and maxPerClass, drawing the same images as the full set', () => {
    const full = generateDemoDataset({ perClass: 10, testPerClass: 4 })
    const subset = generateDemoDataset({ perClass: 10, testPerClass: 4, classes: ['ring', 'checker'], maxPerClass: { train: 3, test: 2 } })
    expect(subset.classNames).toEqual(['ring', 'checker'])
    const train = subset.splits.train!
    expect(train.labels.length).toBe(6)
    expect(countPerLabel(train.labels, 2)).toEqual([3, 3])
    expect(countPerLabel(subset.splits.test!.labels, 2)).toEqual([2, 2])
    expect(train.sources).toEqual(['ring/0', 'checker/0', 'ring/1', 'checker/1', 'ring/2', 'checker/2'].map((s) => `demo:train/${s}`))
    for (const set of [train, subset.splits.test!]) {
      set.sources.forEach((source, i) => {
        expect(subset.classNames[set.labels[i]], source).toBe(source.split('/')[1])
      })
    }
    // Each subset image is byte-identical to the image with the same source in the full dataset.
    for (const split of ['train', 'test'] as const) {
      const set = subset.splits[split]!
      const whole = full.splits[split]!
      set.sources.forEach((source, i) => {
        const j = whole.sources.indexOf(source)
        expect(j, source).toBeGreaterThanOrEqual(0)
        expect(same(imageOf(set, i), imageOf(whole, j)), source).toBe(true)
        expect(full.classNames[whole.labels[j]]).toBe(subset.classNames[set.labels[i]])
      })
    }
  })

  it('rejects unknown class names and bad counts, naming them', async () => {
    await expectDatasetError(() => generateDemoDataset({ classes: ['disc', 'unicorn'] }), '"unicorn"', 'stripes-h')
    await expectDatasetError(() => generateDemoDataset({ perClass: -1 }), 'options.perClass')
    await expectDatasetError(() => generateDemoDataset({ perClass: 1, testPerClass: 1.5 }), 'options.testPerClass')
    await expectDatasetError(() => generateDemoDataset({ maxPerClass: { train: -2 } }), 'options.maxPerClass.train')
  })
})

describe('demo dataset at its default size (4,000 images)', () => {
  let data: ImageDataset
  beforeAll(() => {
    const started = performance.now()
    data = generateDemoDataset()
    console.info(`generated the default demo dataset (4,000 images) in ${(performance.now() - started).toFixed(0)} ms`)
  })

  it('has 300 train and 100 test images per class, interleaved, with valid sources', () => {
    const train = data.splits.train!
    const test = data.splits.test!
    expect(train.labels.length).toBe(3000)
    expect(test.labels.length).toBe(1000)
    expect(train.images.length).toBe(3000 * IMAGE_BYTES)
    expect(test.images.length).toBe(1000 * IMAGE_BYTES)
    expect(countPerLabel(train.labels, 10)).toEqual(new Array(10).fill(300))
    expect(countPerLabel(test.labels, 10)).toEqual(new Array(10).fill(100))
    expect(Array.from(train.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    expect(new Set(train.sources).size).toBe(3000)
    expect(data.skipped).toEqual([])
  })

  it('uses the whole byte range (images are neither blank nor washed out)', () => {
    let min = 255
    let max = 0
    for (const v of data.splits.train!.images) {
      if (v < min) min = v
      if (v > max) max = v
    }
    expect([min, max]).toEqual([0, 255])
  })

  /*
   * What "the classes are visually distinct" is taken to mean, measured on the default dataset
   * (train 300/class, test 100/class):
   *  - Colours are random per image by design, so raw-pixel class means are all about the same grey
   *    and a nearest-class-mean classifier on raw pixels is at chance (~10%). We assert it stays
   *    below 20%: colour alone does not give the class away.
   *  - The shapes do: on a colour- and position-invariant feature, a nearest-class-mean classifier
   *    fit on train scores far above chance on test. The feature: each image projected onto its own
   *    main colour axis (first principal component of its 1,024 RGB pixels, i.e. background →
   *    foreground; plain grey would lose patterns whose two colours have similar brightness),
   *    standardized, then the log power spectrum of that (position and sign do not matter).
   *    We assert overall accuracy > 60% (chance 10%; measured 77.6%) and every class's recall
   *    > 30% (lowest measured 42%, triangle), so no class is confused with the others wholesale.
   */
  it('classes differ in shape, not colour: nearest-class-mean on raw pixels is at chance, on spectra far above', () => {
    const train = data.splits.train!
    const test = data.splits.test!
    const raw = (set: ImageSet, i: number): Float64Array => Float64Array.from(imageOf(set, i))
    const rawResult = nearestClassMean(train, test, 10, raw)
    const spectrumFeature = (set: ImageSet, i: number): Float64Array => logPowerSpectrum(mainColourAxis(set.images, i))
    const shapeResult = nearestClassMean(train, test, 10, spectrumFeature)
    console.info(
      `nearest-class-mean accuracy: raw pixels ${(rawResult.accuracy * 100).toFixed(1)}%, ` +
        `main-colour-axis power spectrum ${(shapeResult.accuracy * 100).toFixed(1)}% ` +
        `(per-class recall ${shapeResult.recall.map((r) => (r * 100).toFixed(0)).join(', ')}%)`
    )
    expect(rawResult.accuracy).toBeLessThan(0.2)
    expect(shapeResult.accuracy).toBeGreaterThan(0.6)
    shapeResult.recall.forEach((r, label) => expect(r, DEMO_CLASS_NAMES[label]).toBeGreaterThan(0.3))
  })
})

/**
 * Image i as one value per pixel: its colours projected on the image's first principal colour axis
 * (found by power iteration on the 3×3 covariance), standardized to mean 0 and standard deviation 1.
 */
function mainColourAxis(images: Uint8Array, i: number): Float64Array {
  const base = i * PIXELS * 3
  const mean = [0, 0, 0]
  for (let p = 0; p < PIXELS; p++) for (let c = 0; c < 3; c++) mean[c] += images[base + p * 3 + c] / PIXELS
  const cov = new Float64Array(9)
  for (let p = 0; p < PIXELS; p++) {
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) cov[a * 3 + b] += (images[base + p * 3 + a] - mean[a]) * (images[base + p * 3 + b] - mean[b])
    }
  }
  let axis = [1, 0.7, 0.4]
  for (let iteration = 0; iteration < 50; iteration++) {
    const next = [0, 1, 2].map((a) => cov[a * 3] * axis[0] + cov[a * 3 + 1] * axis[1] + cov[a * 3 + 2] * axis[2])
    const norm = Math.hypot(...next) || 1
    axis = next.map((v) => v / norm)
  }
  const out = new Float64Array(PIXELS)
  for (let p = 0; p < PIXELS; p++) {
    let v = 0
    for (let c = 0; c < 3; c++) v += (images[base + p * 3 + c] - mean[c]) * axis[c]
    out[p] = v
  }
  const sd = Math.sqrt(out.reduce((s, v) => s + v * v, 0) / PIXELS) || 1
  return out.map((v) => v / sd)
}

const COS = Float64Array.from({ length: SIDE }, (_, k) => Math.cos((2 * Math.PI * k) / SIDE))
const SIN = Float64Array.from({ length: SIDE }, (_, k) => Math.sin((2 * Math.PI * k) / SIDE))

/** log(1 + |DFT|²) of a 32×32 image (separable DFT), DC term zeroed: ignores position and contrast sign. */
function logPowerSpectrum(x: Float64Array): Float64Array {
  const re = new Float64Array(PIXELS)
  const im = new Float64Array(PIXELS)
  for (let y = 0; y < SIDE; y++) {
    for (let u = 0; u < SIDE; u++) {
      let a = 0
      let b = 0
      for (let t = 0; t < SIDE; t++) {
        const k = (u * t) % SIDE
        a += x[y * SIDE + t] * COS[k]
        b -= x[y * SIDE + t] * SIN[k]
      }
      re[y * SIDE + u] = a
      im[y * SIDE + u] = b
    }
  }
  const out = new Float64Array(PIXELS)
  for (let u = 0; u < SIDE; u++) {
    for (let v = 0; v < SIDE; v++) {
      let a = 0
      let b = 0
      for (let y = 0; y < SIDE; y++) {
        const k = (v * y) % SIDE
        const r = re[y * SIDE + u]
        const i = im[y * SIDE + u]
        a += r * COS[k] + i * SIN[k]
        b += i * COS[k] - r * SIN[k]
      }
      out[v * SIDE + u] = Math.log1p(a * a + b * b)
    }
  }
  out[0] = 0
  return out
}

/** Fits one mean feature vector per class on `train`, classifies `test` by the nearest mean. */
function nearestClassMean(
  train: ImageSet,
  test: ImageSet,
  classes: number,
  feature: (set: ImageSet, i: number) => Float64Array
): { accuracy: number; recall: number[] } {
  const sums: Float64Array[] = []
  const counts = new Array<number>(classes).fill(0)
  for (let i = 0; i < train.labels.length; i++) {
    const f = feature(train, i)
    const label = train.labels[i]
    sums[label] ??= new Float64Array(f.length)
    f.forEach((v, k) => (sums[label][k] += v))
    counts[label]++
  }
  const means = sums.map((sum, label) => sum.map((v) => v / counts[label]))
  let correct = 0
  const hits = new Array<number>(classes).fill(0)
  const totals = new Array<number>(classes).fill(0)
  for (let i = 0; i < test.labels.length; i++) {
    const f = feature(test, i)
    let best = -1
    let bestDistance = Infinity
    means.forEach((mean, label) => {
      let d = 0
      for (let k = 0; k < f.length; k++) d += (f[k] - mean[k]) ** 2
      if (d < bestDistance) {
        bestDistance = d
        best = label
      }
    })
    totals[test.labels[i]]++
    if (best === test.labels[i]) {
      correct++
      hits[best]++
    }
  }
  return { accuracy: correct / test.labels.length, recall: hits.map((h, label) => h / totals[label]) }
}
