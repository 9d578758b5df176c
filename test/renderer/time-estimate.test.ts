import { describe, expect, it } from 'vitest'
import type { EngineBackend } from '../../src/shared/contract'
import type { RunRecord } from '../../src/shared/project'
import { resolveTrainConfig } from '../../src/shared/train-config'
import { estimateSpeed, estimateSweep, imagesPerEpoch } from '../../src/renderer/src/lib/time-estimate'

const wasm: EngineBackend = { backend: 'wasm', device: 'cpu', label: 'CPU · wasm, 2 training threads', threads: 2, attempts: [], notes: [] }
const config = resolveTrainConfig({ width: 0.125, epochs: 10, trainPerClass: 200, batchSize: 64 })

function measured(imagesPerSecond: number, overrides: Record<string, unknown> = {}): RunRecord {
  return { imagesPerSecond, config: resolveTrainConfig({ width: 0.125, batchSize: 64, ...overrides }) } as RunRecord
}

describe('time estimate', () => {
  it('uses the speed runs of the project measured for the same shape of network, else the CPU benchmark', () => {
    expect(estimateSpeed(config, wasm, [measured(300), measured(100), measured(200), measured(5000, { width: 1 })])).toMatchObject({ imagesPerSecond: 200, source: 'measured' })
    const bench = estimateSpeed(config, wasm, [])
    expect(bench.source).toBe('benchmark')
    // Measured here with two training threads (npm run bench): VGG11-BN at width 1/8 trains at
    // 470–515 img/s on wasm, width 1 at 28–34; a guess before the first run need only be near.
    expect(bench.imagesPerSecond).toBeGreaterThan(400)
    expect(bench.imagesPerSecond).toBeLessThan(900)
    expect(estimateSpeed(resolveTrainConfig({}), wasm).imagesPerSecond).toBeCloseTo(30, 0)
    expect(estimateSpeed(config, null).source).toBe('guess')
  })

  it('counts training images per epoch from the cap or the dataset, with the validation share', () => {
    expect(imagesPerEpoch(config, 5, 300)).toEqual({ train: 1000, val: 250 })
    expect(imagesPerEpoch(resolveTrainConfig({}), 5, 300)).toEqual({ train: 1200, val: 300 })
    expect(imagesPerEpoch(resolveTrainConfig({}), 5, null)).toBeNull()
  })

  it('adds up the runs still to do: done runs count nothing, a resumed run only its remaining epochs', () => {
    const speed = { imagesPerSecond: 250, source: 'benchmark' as const, label: 'benchmark', detail: '' }
    const one = estimateSweep([{ classCount: 5, epochs: 10 }], config, 300, speed)
    // 10 epochs × (1000 train + 250 val / 3) images at 250 img/s, plus start-up.
    expect(one?.seconds).toBeCloseTo((10 * (1000 + 250 / 3)) / 250 + 4, 5)
    const sweep = estimateSweep(
      [
        { classCount: 5, epochs: 10, done: true },
        { classCount: 5, epochs: 10, epochsDone: 5 },
        { classCount: 5, epochs: 10 }
      ],
      config,
      300,
      speed
    )
    expect(sweep?.runs).toBe(2)
    expect(sweep?.images).toBe(15_000)
    expect(estimateSweep([{ classCount: 5, epochs: 10 }], resolveTrainConfig({}), null, speed)).toBeNull()
  })
})
