/**
 * The built-in demo dataset: procedurally drawn 32×32 RGB images of ten pattern classes, so a new
 * user can train something meaningful with no download.
 *
 * Every image is drawn from its own generator, seeded from (dataset seed, split, class name, index),
 * so the bytes are identical on every machine, and selecting classes or fewer images per class
 * gives exactly the same images as the full set, just fewer of them. Colours are random for every
 * class (colour never gives the class away), shapes vary in position, size, angle and phase, and
 * pixel noise is added, so a small convnet has to learn shapes, not look up a colour.
 */

import { createRandom, deriveSeed, type Random } from '../random'
import { DatasetError, type ImageDataset, type ImageSet, type ReadOptions, type SplitName } from './dataset'
import { maxPerClassFor, selectClasses } from './select-classes'

const SIDE = 32
const IMAGE_BYTES = SIDE * SIDE * 3

/** A class's drawing: returns the foreground coverage (0–1) at a pixel centre. */
type Pattern = (random: Random) => (x: number, y: number) => number

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v)
/** Random value in [lo, hi). */
const uniform = (random: Random, lo: number, hi: number): number => lo + (hi - lo) * random.next()
/** A random point away from the border, so shapes stay mostly inside the image. */
const centre = (random: Random): [number, number] => [uniform(random, 9, 23), uniform(random, 9, 23)]

/** Soft square wave across parallel stripes at `angle` (0 = stripes run horizontally). */
function stripes(angle: number): Pattern {
  return (random) => {
    const a = angle + uniform(random, -0.25, 0.25)
    const period = uniform(random, 4, 9)
    const phase = uniform(random, 0, 2 * Math.PI)
    const [s, c] = [Math.sin(a), Math.cos(a)]
    return (x, y) => clamp01(0.5 + 1.5 * Math.sin(((y * c - x * s) * 2 * Math.PI) / period + phase))
  }
}

const PATTERNS: Record<string, Pattern> = {
  'stripes-h': stripes(0),
  'stripes-v': stripes(Math.PI / 2),
  checker: (random) => {
    const cell = uniform(random, 3, 7)
    const a = uniform(random, -0.3, 0.3)
    const [ox, oy] = [uniform(random, 0, 8), uniform(random, 0, 8)]
    const [s, c] = [Math.sin(a), Math.cos(a)]
    return (x, y) => (Math.floor((x * c + y * s + ox) / cell) + Math.floor((y * c - x * s + oy) / cell)) & 1
  },
  disc: (random) => {
    const [cx, cy] = centre(random)
    const r = uniform(random, 5, 11)
    return (x, y) => clamp01(r - Math.hypot(x - cx, y - cy) + 0.5)
  },
  ring: (random) => {
    const [cx, cy] = centre(random)
    const r = uniform(random, 6, 12)
    const halfWidth = uniform(random, 0.8, 1.6)
    return (x, y) => clamp01(halfWidth - Math.abs(Math.hypot(x - cx, y - cy) - r) + 0.5)
  },
  cross: (random) => {
    const [cx, cy] = centre(random)
    const arm = uniform(random, 6, 12)
    const halfWidth = uniform(random, 1.2, 2.5)
    const a = uniform(random, -0.4, 0.4)
    const [s, c] = [Math.sin(a), Math.cos(a)]
    const bar = (along: number, across: number): number =>
      clamp01(arm - Math.abs(along) + 0.5) * clamp01(halfWidth - Math.abs(across) + 0.5)
    return (x, y) => {
      const u = (x - cx) * c + (y - cy) * s
      const v = (y - cy) * c - (x - cx) * s
      return Math.max(bar(u, v), bar(v, u))
    }
  },
  triangle: (random) => {
    const [cx, cy] = centre(random)
    const inradius = uniform(random, 3.5, 6.5)
    const a = uniform(random, 0, 2 * Math.PI)
    const normals = [0, 1, 2].map((k) => [Math.cos(a + (k * 2 * Math.PI) / 3), Math.sin(a + (k * 2 * Math.PI) / 3)])
    return (x, y) => {
      let inside = Infinity
      for (const [nx, ny] of normals) inside = Math.min(inside, inradius - ((x - cx) * nx + (y - cy) * ny))
      return clamp01(inside + 0.5)
    }
  },
  gradient: (random) => {
    const a = uniform(random, 0, 2 * Math.PI)
    const span = uniform(random, 14, 36)
    const [cx, cy] = centre(random)
    const [nx, ny] = [Math.cos(a), Math.sin(a)]
    return (x, y) => clamp01(0.5 + ((x - cx) * nx + (y - cy) * ny) / span)
  },
  dots: (random) => {
    const dots = Array.from({ length: 5 + random.int(6) }, () => ({
      x: uniform(random, 3, 29),
      y: uniform(random, 3, 29),
      r: uniform(random, 1.2, 2.2)
    }))
    return (x, y) => {
      let m = 0
      for (const d of dots) m = Math.max(m, clamp01(d.r - Math.hypot(x - d.x, y - d.y) + 0.5))
      return m
    }
  },
  'noise-blobs': (random) => {
    const blobs = Array.from({ length: 4 + random.int(4) }, () => ({
      x: uniform(random, 4, 28),
      y: uniform(random, 4, 28),
      k: 1 / (2 * uniform(random, 2, 4.5) ** 2)
    }))
    return (x, y) => {
      let m = 0
      for (const b of blobs) m += Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) * b.k)
      return clamp01(m)
    }
  }
}

/** The demo's class names, in label order. */
export const DEMO_CLASS_NAMES: readonly string[] = Object.keys(PATTERNS)

/** Options for the demo dataset. */
export interface DemoOptions extends Pick<ReadOptions, 'classes' | 'maxPerClass'> {
  /** Dataset seed (which images exist). Default 1. */
  seed?: number
  /** Train images per class. Default 300. */
  perClass?: number
  /** Test images per class. Default 100. */
  testPerClass?: number
}

/**
 * Generates the demo dataset: 10 classes, `perClass` train and `testPerClass` test images each,
 * classes interleaved (image i has class i mod classCount). Same options → identical bytes.
 *
 * The images of a class are independent draws, so `maxPerClass` simply keeps the first ones, which
 * is already a random choice (ReadOptions.seed has nothing to choose here, and is not taken).
 * @throws DatasetError for an unknown class name or a bad count
 */
export function generateDemoDataset(options: DemoOptions = {}): ImageDataset {
  const seed = options.seed ?? 1
  const selection = selectClasses(DEMO_CLASS_NAMES, options.classes, 'demo')
  const counts: Record<SplitName, number> = { train: options.perClass ?? 300, test: options.testPerClass ?? 100 }
  const splits: ImageDataset['splits'] = {}
  for (const split of ['train', 'test'] as const) {
    const count = counts[split]
    if (!Number.isInteger(count) || count < 0) {
      throw new DatasetError(`options.${split === 'train' ? 'perClass' : 'testPerClass'}`, `must be a non-negative integer, got ${count}`)
    }
    const perClass = Math.min(count, maxPerClassFor(options, split) ?? Infinity)
    if (perClass > 0) splits[split] = generateSplit(seed, split, selection.classNames, perClass)
  }
  return { id: 'demo', name: 'Demo patterns', classNames: selection.classNames, height: SIDE, width: SIDE, splits, skipped: [] }
}

function generateSplit(seed: number, split: SplitName, classNames: readonly string[], perClass: number): ImageSet {
  const total = perClass * classNames.length
  const set: ImageSet = { images: new Uint8Array(total * IMAGE_BYTES), labels: new Int32Array(total), sources: new Array<string>(total) }
  for (let n = 0; n < total; n++) {
    const label = n % classNames.length
    const index = Math.floor(n / classNames.length)
    const name = classNames[label]
    drawImage(PATTERNS[name], createRandom(deriveSeed(seed, `demo:${split}:${name}:${index}`)), set.images, n * IMAGE_BYTES)
    set.labels[n] = label
    set.sources[n] = `demo:${split}/${name}/${index}`
  }
  return set
}

/** Paints one image: random contrasting colours, the class pattern blended between them, pixel noise. */
function drawImage(pattern: Pattern, random: Random, out: Uint8Array, offset: number): void {
  const background = randomColour(random)
  let foreground = randomColour(random)
  // Too-similar colours would make the pattern invisible under the noise.
  while (colourDistance(background, foreground) < 120) foreground = randomColour(random)
  const noise = uniform(random, 4, 28)
  const coverage = pattern(random)
  for (let y = 0, o = offset; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const m = coverage(x + 0.5, y + 0.5)
      for (let c = 0; c < 3; c++, o++) {
        const v = background[c] + (foreground[c] - background[c]) * m + (random.next() - 0.5) * 2 * noise
        out[o] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v)
      }
    }
  }
}

function randomColour(random: Random): [number, number, number] {
  return [random.int(256), random.int(256), random.int(256)]
}

function colourDistance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])
}
