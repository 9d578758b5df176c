import { describe, expect, it } from 'vitest'
import type { MetricsRecord } from '../../src/shared/metrics'
import { DEFAULT_TRAIN_CONFIG } from '../../src/shared/train-config'
import { diffFromDefaults, matchPreset, QUICK_LOOK, resolveOverrides } from '../../src/renderer/src/lib/config-presets'
import { demoExperiment, suggestProjectDir } from '../../src/renderer/src/lib/demo-project'
import { blankDraft, draftFromExperiment, experimentFromDraft } from '../../src/renderer/src/lib/draft'
import { seriesFromRecords } from '../../src/renderer/src/lib/series'

describe('designer drafts', () => {
  it('turns a draft into an experiment: one job per pair, the variants in canonical order, n from the picture, config as overrides', () => {
    const draft = { ...blankDraft('demo'), groups: { A: ['disc', 'ring'], B: ['cross', 'dots'] }, variants: ['BnB+', 'AnB'] as const }
    const single = experimentFromDraft({ ...draft, variants: [...draft.variants], mode: 'single', range: { from: 4, to: 9, step: 1 } })
    expect(single.transfers).toEqual([{ from: 'A', to: 'B', variants: ['AnB', 'BnB+'], n: [4] }])
    expect(single.config).toEqual(diffFromDefaults(draft.config))
    const sweep = experimentFromDraft({ ...draft, variants: [...draft.variants], mode: 'sweep', range: { from: 0, to: 10, step: 5 } })
    expect(sweep.transfers[0]?.n).toEqual([0, 5, 10])
  })

  it('round-trips a saved experiment (the demo project’s) through a draft', () => {
    const demo = demoExperiment()
    const draft = draftFromExperiment(demo)
    expect(draft).toMatchObject({ mode: 'sweep', range: { from: 2, to: 8, step: 3 }, variants: ['AnB', 'BnB'], isNew: false })
    expect(experimentFromDraft(draft)).toEqual(demo)
  })
})

describe('training presets', () => {
  it('stores only what differs from the seed recipe, and recognises the presets', () => {
    expect(diffFromDefaults({ ...DEFAULT_TRAIN_CONFIG, augment: { ...DEFAULT_TRAIN_CONFIG.augment } })).toEqual({})
    const quick = resolveOverrides(QUICK_LOOK)
    expect(quick.error).toBeNull()
    expect(matchPreset(quick.config)).toBe('quick')
    expect(matchPreset({ ...quick.config, epochs: 3 })).toBeNull()
    expect(diffFromDefaults({ ...DEFAULT_TRAIN_CONFIG, augment: { ...DEFAULT_TRAIN_CONFIG.augment, rotate: false } })).toEqual({ augment: { rotate: false } })
    expect(resolveOverrides({ width: 9 }).error).toMatch(/config\.width/)
  })

  it('suggests a folder for a new project next to the last one, else beside the data folder', () => {
    expect(suggestProjectDir(['/home/ada/studies/cifar', '/home/ada/studies/demo-project'], null, 'demo-project')).toBe('/home/ada/studies/demo-project-2')
    expect(suggestProjectDir([], '/home/ada/.local/share/transfer-workbench/datasets', 'demo-project')).toBe('/home/ada/.local/share/transfer-workbench/projects/demo-project')
    expect(suggestProjectDir(['C:\\Users\\ada\\study'], null, 'demo-project')).toBe('C:\\Users\\ada\\demo-project')
    expect(suggestProjectDir([], null, 'x')).toBeNull()
  })
})

describe('run series', () => {
  it('keeps one point per epoch (the last line wins after a resume) and the logged batches in order', () => {
    const epoch = (n: number, valAcc: number): MetricsRecord => ({ type: 'epoch', epoch: n, epochs: 3, trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc, lr: 0.1, imagesPerSecond: 100, seconds: 1, best: false })
    const batch = (e: number, b: number, logged: boolean): MetricsRecord => ({ type: 'batch', epoch: e, batch: b, batchesPerEpoch: 4, loss: e + b / 10, acc: 0.5, lr: 0.1, imagesPerSecond: 100, etaSeconds: 1, logged })
    const series = seriesFromRecords([batch(1, 2, true), batch(1, 3, false), batch(1, 4, true), epoch(1, 0.3), batch(2, 4, true), epoch(2, 0.4), epoch(2, 0.45)])
    expect(series.epochs.map((e) => [e.epoch, e.valAcc])).toEqual([
      [1, 0.3],
      [2, 0.45]
    ])
    expect(series.batches.map((b) => b.x)).toEqual([0.5, 1, 2])
  })
})
