/**
 * Data-parallel training keeps one copy of what can be shared (issue 20, peak RSS at width 1): the
 * exchange area stays small whatever the model, slices and rounds cover every trainable value once,
 * no message to a worker carries weights (they pass through shared memory), and the update in many
 * small rounds, over 2 and 3 workers, still gives what one thread gives. The RSS itself is measured by
 * `npx tsx bench/memory-check.ts` and the bench, not here.
 */
import * as tf from '@tensorflow/tfjs'
import { Worker } from 'node:worker_threads'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { selectBackend } from '../../../src/engine/backend/select-backend'
import { buildVgg } from '../../../src/engine/models/build-vgg'
import { Collective, collectiveBytes, createCollectiveBuffer, MAX_SMALL_VALUES, ROUND_VALUES } from '../../../src/engine/train/parallel/collective'
import { createDataParallelStepper } from '../../../src/engine/train/parallel/data-parallel'
import { flatOffsets, forEachPiece } from '../../../src/engine/train/parallel/flat-ranges'
import { createSingleThreadStepper } from '../../../src/engine/train/single-thread-stepper'
import { CLASSES, makeBatch, SIZE } from './helpers/step-batches'

beforeAll(async () => {
  await selectBackend('wasm')
})

afterEach(() => {
  vi.restoreAllMocks()
})

/** 4-byte values in every typed array a message holds, nested ones too (the old init carried `weights: [{ data }]`). */
function floatsIn(value: unknown): number {
  if (ArrayBuffer.isView(value)) return value.byteLength / 4
  if (value === null || typeof value !== 'object') return 0
  return Object.values(value).reduce((n: number, v) => n + floatsIn(v), 0)
}

describe('the collective’s shared memory', () => {
  it('holds a small exchange area however large the model (width 1: 16 MB, not a gradient copy per worker)', () => {
    const width1 = 28_144_010
    const control = 4 * 4 + 2 * 2 * MAX_SMALL_VALUES * 8
    expect(collectiveBytes({ workers: 2, gradientElements: width1 })).toBe(control + 2 * 2 * ROUND_VALUES * 4)
    expect(collectiveBytes({ workers: 2, gradientElements: width1 })).toBeLessThan(20 * 2 ** 20)
    // A model smaller than a round needs no more than itself per slot.
    expect(collectiveBytes({ workers: 2, gradientElements: 1000 })).toBe(control + 2 * 2 * 500 * 4)
  })

  for (const workers of [1, 2, 3]) {
    it(`gives ${workers} worker(s) slices and rounds that cover every value once, and slots that do not overlap`, () => {
      const layout = { workers, gradientElements: 10_007, roundValues: 1000 }
      const collective = new Collective(createCollectiveBuffer(layout), layout, 0)
      const seen = new Uint8Array(layout.gradientElements)
      for (let owner = 0; owner < workers; owner++) {
        const [start, end] = collective.slice(owner)
        expect(start % 4).toBe(0)
        for (let round = 0; round < collective.rounds; round++) {
          const [lo, hi] = collective.roundRange(owner, round)
          expect(start <= lo && lo <= hi && hi <= end && hi - lo <= 1000).toBe(true)
          for (let j = lo; j < hi; j++) seen[j]! += 1
        }
      }
      expect(seen.every((n) => n === 1)).toBe(true)
      // Every slot (the others' gradients and the updated weights of each slice) is its own part of the area.
      const slots = Array.from({ length: workers }, (_, owner) => [...Array.from({ length: workers }, (_, from) => from).filter((from) => from !== owner).map((from) => collective.contribution(owner, from)), collective.updated(owner)]).flat()
      const used = new Uint8Array(collective.area.length)
      for (const slot of slots) {
        expect(slot.buffer).toBe(collective.area.buffer)
        const at = (slot.byteOffset - collective.area.byteOffset) / 4
        for (let j = at; j < at + slot.length; j++) used[j]! += 1
      }
      expect(used.every((n) => n === 1)).toBe(true)
      expect(() => collective.contribution(0, 0)).toThrow(/own gradients/)
    })
  }

  it('finds the pieces of a flat range in tensors laid end to end', () => {
    const offsets = flatOffsets([3, 0, 5, 2])
    expect(offsets).toEqual([0, 3, 3, 8, 10])
    const pieces: number[][] = []
    forEachPiece(offsets, 2, 9, (item, at, n, flat) => pieces.push([item, at, n, flat]))
    expect(pieces).toEqual([
      [0, 2, 1, 2],
      [2, 0, 5, 3],
      [3, 0, 1, 8]
    ])
  })
})

describe('data-parallel training through shared memory', () => {
  for (const workers of [2, 3]) {
    it(`matches one thread over ${workers} workers with the update in many small rounds, and sends no weights in messages`, async () => {
      const build = (): tf.LayersModel => buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: CLASSES, seed: 7, dropout: 0 })
      const [single, parallel] = [build(), build()]
      const optimizers = [tf.train.momentum(0.05, 0.9), tf.train.momentum(0.05, 0.9)] as const
      const shape = { size: SIZE, numClasses: CLASSES }
      // Every array a message to a worker carries: only the batches' images and labels may be large.
      const sent: { type: string; floats: number }[] = []
      const post = Worker.prototype.postMessage
      vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: { type: string } & Record<string, unknown>, transfer?: Parameters<Worker['postMessage']>[1]) {
        const floats = floatsIn(message)
        sent.push({ type: message.type, floats })
        return post.call(this, message, transfer)
      })
      const one = createSingleThreadStepper({ model: single, optimizer: optimizers[0], shape, weightDecay: 5e-4 })
      // 3001 values per round: rounds end inside weights, and the model's ~110k values take many.
      const many = await createDataParallelStepper({ model: parallel, optimizer: optimizers[1], shape, weightDecay: 5e-4, workers, backend: 'wasm', roundValues: 3001 })
      try {
        for (const seed of [1, 2]) {
          const batch = makeBatch(12, seed)
          const a = await one.step(batch, 0.05)
          const b = await many.step(batch, 0.05)
          expect(b.loss).toBeCloseTo(a.loss, 4)
        }
        await many.sync()
      } finally {
        await many.dispose()
      }
      for (const [i, w] of single.weights.entries()) {
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(w.read(), parallel.weights[i]!.read()))).dataSync()[0] as number)
        const scale = tf.tidy(() => Math.max(1e-3, tf.max(tf.abs(w.read())).dataSync()[0] as number))
        expect(diff / scale, w.name).toBeLessThan(1e-4)
      }
      const [sa, pa] = [await optimizers[0].getWeights(), await optimizers[1].getWeights()]
      expect(pa[0]!.tensor.dataSync()[0]).toBe(2)
      for (let i = 1; i < sa.length; i++) {
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(sa[i]!.tensor, pa[i]!.tensor))).dataSync()[0] as number)
        expect(diff).toBeLessThan(1e-3)
      }
      // The weights (~110k values) went through shared memory: no message but a batch carries an array.
      expect(sent.some((m) => m.type === 'load-weights')).toBe(true)
      expect(sent.some((m) => m.type === 'read-weights')).toBe(true)
      for (const m of sent) expect(m.floats === 0 || m.type === 'step', `${m.type} carries ${m.floats} values`).toBe(true)
      tf.dispose([single, parallel, ...optimizers, sa[0]!.tensor, pa[0]!.tensor] as unknown as tf.Tensor[])
    })
  }

  it('names a bad round size', async () => {
    const model = buildVgg({ arch: 'vgg11_bn', width: 1 / 16, numClasses: CLASSES, seed: 7 })
    await expect(createDataParallelStepper({ model, optimizer: tf.train.momentum(0.05, 0.9), shape: { size: SIZE, numClasses: CLASSES }, weightDecay: 0, workers: 2, backend: 'wasm', roundValues: 0.5 })).rejects.toThrow(/roundValues must be a positive integer, got 0.5/)
    model.dispose()
  })
})
