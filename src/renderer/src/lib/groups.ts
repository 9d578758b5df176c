/**
 * Class groups of an experiment as plain data (group name → class names), and the edits the
 * designer makes to them. Every function returns a new object; nothing is changed in place, so a
 * store can keep the groups in a ref and undo is a matter of keeping the old value.
 */
import type { TransferJob } from '../../../shared/project'

export type Groups = Record<string, string[]>

/** Group names appear in run ids and file names (the engine's rule). */
export const GROUP_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/

/** A copy of the groups as plain data (safe to send: no Vue proxies inside). */
export function copyGroups(groups: Groups): Groups {
  return Object.fromEntries(Object.entries(groups).map(([name, classes]) => [name, [...classes]]))
}

/** Why a name cannot be used for a group, or null when it can. */
export function checkGroupName(groups: Groups, name: string, current?: string): string | null {
  if (!GROUP_NAME_PATTERN.test(name)) return 'start with a letter; letters, digits and _ only'
  if (name !== current && name in groups) return `there is already a group ${name}`
  return null
}

/** The next free name: A, B, C … Z, then G27, G28 … */
export function nextGroupName(groups: Groups): string {
  for (let i = 0; i < 26; i++) {
    const name = String.fromCharCode(65 + i)
    if (!(name in groups)) return name
  }
  for (let i = 27; ; i++) if (!(`G${i}` in groups)) return `G${i}`
}

/** Adds an empty group (named `name` or the next free letter). */
export function createGroup(groups: Groups, name = nextGroupName(groups)): Groups {
  if (checkGroupName(groups, name)) throw new Error(`cannot create group '${name}': ${checkGroupName(groups, name)}`)
  return { ...groups, [name]: [] }
}

/** Renames a group, keeping its place in the order. */
export function renameGroup(groups: Groups, from: string, to: string): Groups {
  if (!(from in groups)) throw new Error(`no group ${from}`)
  const problem = checkGroupName(groups, to, from)
  if (problem) throw new Error(`cannot rename ${from} to '${to}': ${problem}`)
  return Object.fromEntries(Object.entries(groups).map(([name, classes]) => [name === from ? to : name, classes]))
}

export function deleteGroup(groups: Groups, name: string): Groups {
  const { [name]: _removed, ...rest } = groups
  return rest
}

/** Puts a class into a group (once), in the dataset's label order when `order` is given. */
export function addClass(groups: Groups, group: string, className: string, order?: readonly string[]): Groups {
  const classes = groups[group]
  if (!classes) throw new Error(`no group ${group}`)
  if (classes.includes(className)) return groups
  const next = [...classes, className]
  if (order) next.sort((a, b) => order.indexOf(a) - order.indexOf(b))
  return { ...groups, [group]: next }
}

export function removeClass(groups: Groups, group: string, className: string): Groups {
  const classes = groups[group]
  if (!classes?.includes(className)) return groups
  return { ...groups, [group]: classes.filter((c) => c !== className) }
}

/**
 * Moves a class between groups; `from` null means from the pool of all classes (which keeps it:
 * the pool always lists every class). With `copy`, the class stays in `from` too.
 */
export function moveClass(groups: Groups, className: string, from: string | null, to: string | null, options: { copy?: boolean; order?: readonly string[] } = {}): Groups {
  if (from === to) return groups
  let next = groups
  if (to !== null) next = addClass(next, to, className, options.order)
  if (from !== null && !options.copy) next = removeClass(next, from, className)
  return next
}

/** The groups a class is in, in group order. */
export function groupsOf(groups: Groups, className: string): string[] {
  return Object.entries(groups)
    .filter(([, classes]) => classes.includes(className))
    .map(([name]) => name)
}

/** Warnings the designer shows before asking the engine: overlaps between source and target, tiny groups. */
export function checkGroups(groups: Groups, transfers: readonly Pick<TransferJob, 'from' | 'to'>[]): string[] {
  const warnings: string[] = []
  for (const [name, classes] of Object.entries(groups)) {
    if (classes.length < 2) warnings.push(`group ${name} needs at least 2 classes (has ${classes.length})`)
  }
  for (const job of transfers) {
    const from = groups[job.from]
    const to = groups[job.to]
    if (!from || !to || job.from === job.to) continue
    const shared = from.filter((c) => to.includes(c))
    if (shared.length > 0) warnings.push(`source ${job.from} and target ${job.to} share ${shared.join(', ')}: AnB would measure more than transfer`)
  }
  return warnings
}

/** A small seeded generator (mulberry32): the same seed gives the same halves on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Splits the classes into two random halves A and B (A gets the extra class of an odd count), each in label order. */
export function randomHalves(classNames: readonly string[], seed: number): Groups {
  const random = seededRandom(seed)
  const shuffled = [...classNames]
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string]
  }
  const half = Math.ceil(shuffled.length / 2)
  const inOrder = (list: string[]): string[] => list.sort((a, b) => classNames.indexOf(a) - classNames.indexOf(b))
  return { A: inOrder(shuffled.slice(0, half)), B: inOrder(shuffled.slice(half)) }
}

/** A named set of groups with the transfers it was made for. */
export interface GroupPreset {
  id: string
  label: string
  description: string
  groups: Groups
  transfers: { from: string; to: string }[]
}

/** The seed report's CIFAR-10 groups (Table 1). */
export const SEED_REPORT_AB: Groups = {
  A: ['cat', 'deer', 'dog', 'horse', 'ship'],
  B: ['airplane', 'automobile', 'bird', 'frog', 'truck']
}
export const SEED_REPORT_SIMILARITY: Groups = {
  A1: ['bird', 'cat', 'deer'],
  A2: ['frog', 'horse', 'dog'],
  V: ['airplane', 'automobile', 'truck', 'ship']
}

const hasAll = (classNames: readonly string[], groups: Groups): boolean => Object.values(groups).every((list) => list.every((c) => classNames.includes(c)))

/**
 * The presets that fit a dataset: random halves always (with the given seed); the seed report's A/B
 * and A1/A2/V only where the dataset has those classes (CIFAR-10 and folders named like it).
 */
export function listPresets(classNames: readonly string[], seed: number): GroupPreset[] {
  const presets: GroupPreset[] = []
  if (classNames.length >= 4) {
    presets.push({
      id: 'random-halves',
      label: `Random halves (seed ${seed})`,
      description: 'Two disjoint random halves A and B, as in Yosinski et al.',
      groups: randomHalves(classNames, seed),
      transfers: [{ from: 'A', to: 'B' }]
    })
  }
  if (hasAll(classNames, SEED_REPORT_AB)) {
    presets.push({
      id: 'seed-ab',
      label: 'Seed report A / B',
      description: 'A = cat, deer, dog, horse, ship; B = airplane, automobile, bird, frog, truck',
      groups: copyGroups(SEED_REPORT_AB),
      transfers: [{ from: 'A', to: 'B' }]
    })
  }
  if (hasAll(classNames, SEED_REPORT_SIMILARITY)) {
    presets.push({
      id: 'seed-similarity',
      label: 'Seed report A1 / A2 / V',
      description: 'Animals 1, animals 2 and vehicles: does transfer between similar data hold up better?',
      groups: copyGroups(SEED_REPORT_SIMILARITY),
      transfers: [
        { from: 'A1', to: 'A2' },
        { from: 'V', to: 'A2' },
        { from: 'A1', to: 'V' },
        { from: 'V', to: 'A1' }
      ]
    })
  }
  return presets
}
