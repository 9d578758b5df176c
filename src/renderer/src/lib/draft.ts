/**
 * The designer's draft of an experiment and its conversions: a blank one, one from a saved
 * experiment, and the experiment (plain data) a draft describes.
 */
import type { Experiment } from '../../../shared/project'
import { resolveTrainConfig, type TrainConfig } from '../../../shared/train-config'
import { TRANSFER_VARIANTS, type TransferVariant } from '../../../shared/transfer'
import { maxTransferDepth } from '../../../shared/vgg'
import { diffFromDefaults, QUICK_LOOK } from './config-presets'
import { depthsOf, rangeOf, type DepthRange } from './depth'
import { copyGroups, type Groups } from './groups'

/** A source → target pair the experiment studies. */
export interface TransferPair {
  from: string
  to: string
}

/** The experiment being designed, before it is saved. */
export interface Draft {
  /** Id of the experiment it edits, or of the new one. */
  id: string
  name: string
  dataset: string
  groups: Groups
  pairs: TransferPair[]
  variants: TransferVariant[]
  mode: 'single' | 'sweep'
  range: DepthRange
  config: TrainConfig
  /**
   * Runs per cell, seeds seed … seed+K−1 (1: one run each). Kept as typed, even when out of range: the
   * engine's plan then refuses it by name and the designer cannot save it.
   */
  repeats: number
  /** Whether it is saved in the project as it is (no edits since). */
  isNew: boolean
}

const newId = (): string => `exp-${Date.now().toString(36)}`

/** A fresh draft: the dataset's first two groups to fill, AnB and BnB, a sweep over every depth, quick-look settings. */
export function blankDraft(dataset: string): Draft {
  const config = resolveTrainConfig(QUICK_LOOK)
  return {
    id: newId(),
    name: 'A → B',
    dataset,
    groups: { A: [], B: [] },
    pairs: [{ from: 'A', to: 'B' }],
    variants: ['AnB', 'BnB'],
    mode: 'sweep',
    range: { from: 1, to: maxTransferDepth(config.arch), step: 1 },
    config,
    repeats: 1,
    isNew: true
  }
}

/** A draft from a saved experiment (its first job's variants and depths apply to every pair). */
export function draftFromExperiment(experiment: Experiment): Draft {
  const first = experiment.transfers[0]
  const depths = first?.n ?? [1]
  const range = rangeOf(depths) ?? { from: Math.min(...depths), to: Math.max(...depths), step: 1 }
  return {
    id: experiment.id,
    name: experiment.name,
    dataset: experiment.dataset,
    groups: copyGroups(experiment.groups),
    pairs: experiment.transfers.map((t) => ({ from: t.from, to: t.to })),
    variants: first ? [...first.variants] : ['AnB', 'BnB'],
    mode: depths.length === 1 ? 'single' : 'sweep',
    range,
    config: resolveTrainConfig(experiment.config),
    repeats: experiment.repeats ?? 1,
    isNew: false
  }
}

/** The experiment a draft describes (config stored as the overrides of the recipe). */
export function experimentFromDraft(draft: Draft): Experiment {
  const n = depthsOf(draft.mode === 'single' ? { ...draft.range, to: draft.range.from } : draft.range, maxTransferDepth(draft.config.arch))
  const variants = TRANSFER_VARIANTS.filter((v) => draft.variants.includes(v))
  const experiment: Experiment = {
    id: draft.id,
    name: draft.name.trim() || draft.id,
    dataset: draft.dataset,
    groups: copyGroups(draft.groups),
    bases: [],
    transfers: draft.pairs.map((p) => ({ from: p.from, to: p.to, variants: [...variants], n })),
    config: diffFromDefaults(draft.config),
    // Absent for one repeat: an experiment saved before repeats existed reads back unchanged.
    ...(draft.repeats !== 1 ? { repeats: draft.repeats } : {})
  }
  // Plain data only: Electron's IPC clones messages and refuses Vue proxies.
  return JSON.parse(JSON.stringify(experiment)) as Experiment
}
