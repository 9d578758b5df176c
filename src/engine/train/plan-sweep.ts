import { createHash } from 'node:crypto'
import type { Experiment, RunRecord } from '../../shared/project'
import { resolveTrainConfig, type TrainConfig } from '../../shared/train-config'
import { copiesFromTarget, TRANSFER_VARIANTS, type TransferVariant } from '../../shared/transfer'
import { maxTransferDepth } from '../../shared/vgg'
import { repeatSeed, repeatsProblem } from '../../shared/repeats'
import { newRunRecord } from '../project/run-record'

/** An experiment that cannot be planned: names the group, variant or depth at fault. */
export class ExperimentError extends Error {
  override name = 'ExperimentError'
}

/** Group names appear in run ids and file names: keep them simple. */
const GROUP_NAME = /^[A-Za-z][A-Za-z0-9_]*$/

/** A short content hash: the same run (dataset, classes, config, variant, n, source) → the same id. */
function contentHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8)
}

/** Checks an experiment's config, groups and transfer jobs; returns warnings (e.g. overlapping groups). */
export function validateExperiment(experiment: Experiment): string[] {
  return planExperimentWithWarnings(experiment).warnings
}

/** {@link validateExperiment} with the experiment's config already resolved. */
function checkExperiment(experiment: Experiment, config: TrainConfig): string[] {
  const warnings: string[] = []
  const maxN = maxTransferDepth(config.arch)
  if (experiment.repeats !== undefined) {
    const problem = repeatsProblem(experiment.repeats)
    if (problem) throw new ExperimentError(problem)
  }
  for (const [name, classes] of Object.entries(experiment.groups)) {
    if (!GROUP_NAME.test(name)) throw new ExperimentError(`group '${name}': names start with a letter and use letters, digits and _ only`)
    if (classes.length < 2) throw new ExperimentError(`group '${name}' needs at least 2 classes, has ${classes.length}`)
    if (new Set(classes).size !== classes.length) throw new ExperimentError(`group '${name}' lists a class twice`)
  }
  const group = (name: string, role: string): string[] => {
    const classes = experiment.groups[name]
    if (!classes) throw new ExperimentError(`${role} group '${name}' is not defined; groups are ${Object.keys(experiment.groups).join(', ') || 'none'}`)
    return classes
  }
  for (const base of experiment.bases) group(base, 'base')
  for (const job of experiment.transfers) {
    const from = group(job.from, 'source')
    const to = group(job.to, 'target')
    for (const v of job.variants) {
      if (!(TRANSFER_VARIANTS as readonly string[]).includes(v)) throw new ExperimentError(`variant '${v}' is not one of ${TRANSFER_VARIANTS.join(', ')}`)
    }
    for (const n of job.n) {
      if (!Number.isInteger(n) || n < 0 || n > maxN) throw new ExperimentError(`n=${n} is outside 0 … ${maxN} for ${config.arch}`)
    }
    const shared = from.filter((c) => to.includes(c))
    if (job.from !== job.to && shared.length > 0) {
      warnings.push(`source ${job.from} and target ${job.to} share ${shared.join(', ')}: AnB then measures more than transfer`)
    }
  }
  return warnings
}

/**
 * Plans every run an experiment needs: one base per group that is a source, a target or listed in
 * `bases` (each trained once, reused by every transfer from it), then the transfer runs. Ids come
 * from the runs' content, so planning twice, or two jobs needing the same run (BnB for A:B and C:B),
 * yields it once. Bases come first in the returned order. With `repeats` K, every run is planned K
 * times with seeds seed … seed+K−1 (repeat by repeat: all bases, then all transfers).
 */
export function planExperiment(experiment: Experiment): RunRecord[] {
  return planExperimentWithWarnings(experiment).runs
}

/**
 * {@link planExperiment} and {@link validateExperiment} in one pass: the config is resolved and the
 * experiment checked once (what the designer's plan request needs).
 * @throws ExperimentError or ConfigError naming what is wrong
 */
export function planExperimentWithWarnings(experiment: Experiment): { runs: RunRecord[]; warnings: string[] } {
  const config = resolveTrainConfig(experiment.config)
  const warnings = checkExperiment(experiment, config)
  const repeats = experiment.repeats ?? 1
  const bases: RunRecord[] = []
  const transfers: RunRecord[] = []
  const seen = new Set<string>()
  for (let r = 0; r < repeats; r++) {
    // Repeat r differs only in its seed, which is part of the content hashed into every id: repeat 0
    // keeps the ids a single-seed experiment always had, so existing projects resume as they were.
    const planned = planOneRepeat(experiment, { ...config, seed: repeatSeed(config.seed, r) })
    const add = (into: RunRecord[], run: RunRecord): void => {
      if (seen.has(run.id)) return
      seen.add(run.id)
      into.push(run)
    }
    for (const run of planned.bases) add(bases, run)
    for (const run of planned.transfers) add(transfers, run)
  }
  return { runs: [...bases, ...transfers], warnings }
}

/** The bases and transfers of one repeat (one seed): each transfer copies from this repeat's base. */
function planOneRepeat(experiment: Experiment, config: TrainConfig): { bases: RunRecord[]; transfers: RunRecord[] } {
  const common = { experimentId: experiment.id, dataset: experiment.dataset }
  const bases = new Map<string, RunRecord>()
  const baseFor = (group: string): RunRecord => {
    let run = bases.get(group)
    if (!run) {
      const classes = experiment.groups[group]
      const id = `base-${group}-${contentHash({ dataset: experiment.dataset, classes, config })}`
      run = newRunRecord({ ...common, id, kind: 'base', variant: null, n: null, sourceRunId: null, from: null, to: group, classes: [...classes] }, config)
      bases.set(group, run)
    }
    return run
  }
  for (const group of experiment.bases) baseFor(group)
  const transfers = new Map<string, RunRecord>()
  for (const job of experiment.transfers) {
    baseFor(job.to) // the baseline every transfer curve is read against
    for (const variant of job.variants as TransferVariant[]) {
      const sourceGroup = copiesFromTarget(variant) ? job.to : job.from
      const source = baseFor(sourceGroup)
      for (const n of job.n) {
        const classes = experiment.groups[job.to]
        const label = `${variant.replace('+', 'p')}-n${n}-${sourceGroup}-${job.to}`
        const id = `${label}-${contentHash({ dataset: experiment.dataset, classes, config, variant, n, source: source.id })}`
        if (transfers.has(id)) continue
        transfers.set(id, newRunRecord({ ...common, id, kind: 'transfer', variant, n, sourceRunId: source.id, from: sourceGroup, to: job.to, classes: [...classes] }, config))
      }
    }
  }
  return { bases: [...bases.values()], transfers: [...transfers.values()] }
}
