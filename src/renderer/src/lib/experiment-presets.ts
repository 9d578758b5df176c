/**
 * The seed report's two experiments as one-click drafts (000_…: VGG11-BN on CIFAR-10), and the
 * designer's Repeats field. Pure: draft in, draft out.
 */
import { MAX_REPEATS, repeatsProblem } from '../../../shared/repeats'
import type { TransferVariant } from '../../../shared/transfer'
import { maxTransferDepth } from '../../../shared/vgg'
import type { Draft } from './draft'
import { copyGroups, SEED_REPORT_AB, SEED_REPORT_SIMILARITY, type Groups } from './groups'

/** A whole experiment (groups, transfers, variants, depths) to start from. */
export interface ExperimentPreset {
  id: string
  label: string
  description: string
  groups: Groups
  transfers: { from: string; to: string }[]
  variants: TransferVariant[]
}

/** The seed report's Table 1 experiments: Yosinski's A/B halves, and the data-similarity study. */
export const SEED_STUDY_PRESETS: readonly ExperimentPreset[] = [
  {
    id: 'seed-study-ab',
    label: 'Seed study: A/B halves',
    description: 'A = cat, deer, dog, horse, ship → B = airplane, automobile, bird, frog, truck; AnB and the BnB control at every n (Yosinski et al.; the seed report’s Figure 4)',
    groups: SEED_REPORT_AB,
    transfers: [{ from: 'A', to: 'B' }],
    variants: ['AnB', 'BnB']
  },
  {
    id: 'seed-study-similarity',
    label: 'Seed study: A1/A2/V similarity',
    description: 'Animals 1 (bird, cat, deer), animals 2 (frog, horse, dog), vehicles (airplane, automobile, truck, ship): A1→A2, V→A2, A1→V, V→A1, frozen AnB at every n (the seed report’s Figure 6)',
    groups: SEED_REPORT_SIMILARITY,
    transfers: [
      { from: 'A1', to: 'A2' },
      { from: 'V', to: 'A2' },
      { from: 'A1', to: 'V' },
      { from: 'V', to: 'A1' }
    ],
    variants: ['AnB']
  }
]

/** The classes a preset needs that the dataset lacks (empty: it fits). */
export function missingClasses(preset: ExperimentPreset, classNames: readonly string[]): string[] {
  return [...new Set(Object.values(preset.groups).flat())].filter((c) => !classNames.includes(c))
}

/**
 * The draft with the preset's groups, transfers, variants and a sweep over every depth; the dataset,
 * training settings and repeats stay as the user set them. A new experiment (the saved one is kept).
 */
export function applyExperimentPreset(draft: Draft, preset: ExperimentPreset, newId: string): Draft {
  return {
    ...draft,
    id: newId,
    name: preset.label.replace(/^Seed study: /, 'Seed study ').trim(),
    groups: copyGroups(preset.groups),
    pairs: preset.transfers.map((t) => ({ ...t })),
    variants: [...preset.variants],
    mode: 'sweep',
    range: { from: 1, to: maxTransferDepth(draft.config.arch), step: 1 },
    isNew: true
  }
}

/** The Repeats field as typed: its value, or a message naming what is wrong (never a silent change). */
export function parseRepeats(text: string): { value: number } | { problem: string } {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) return { problem: `“${text}” is not a whole number: repeats are 1 to ${MAX_REPEATS}` }
  const value = Number(trimmed)
  const problem = repeatsProblem(value)
  return problem ? { problem: `${value} is outside 1 … ${MAX_REPEATS}` } : { value }
}
