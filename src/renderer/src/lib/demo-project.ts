/** The demo project: the built-in demo dataset, two groups of patterns and a small quick-look sweep. */
import type { Experiment } from '../../../shared/project'
import { QUICK_LOOK } from './config-presets'
import { copyGroups } from './groups'

/** Textures vs shapes: two disjoint halves of the demo's ten classes. */
export const DEMO_GROUPS = {
  A: ['stripes-h', 'stripes-v', 'checker', 'gradient', 'noise-blobs'],
  B: ['disc', 'ring', 'cross', 'triangle', 'dots']
}

/** The demo experiment: A→B with AnB and BnB at n = 2, 5, 8, quick-look settings with fewer epochs. */
export function demoExperiment(): Experiment {
  return {
    id: 'demo-a-to-b',
    name: 'Demo: textures → shapes',
    dataset: 'demo',
    groups: copyGroups(DEMO_GROUPS),
    bases: [],
    transfers: [{ from: 'A', to: 'B', variants: ['AnB', 'BnB'], n: [2, 5, 8] }],
    config: { ...QUICK_LOOK, epochs: 6, milestones: [3, 5], trainPerClass: 160 }
  }
}

const parentOf = (path: string): string => path.replace(/[\\/]+$/, '').replace(/[\\/][^\\/]*$/, '')
const separatorOf = (path: string): string => (path.includes('\\') && !path.includes('/') ? '\\' : '/')

/**
 * A folder for a new project: next to the most recent project ("…/demo-project", "…/demo-project-2"),
 * else in a `projects` folder beside the dataset library's folder; null when neither is known.
 */
export function suggestProjectDir(recentPaths: readonly string[], dataDir: string | null, stem: string): string | null {
  const last = recentPaths[0]
  const parent = last ? parentOf(last) : dataDir ? `${parentOf(dataDir)}${separatorOf(dataDir)}projects` : ''
  if (!parent) return null
  const separator = separatorOf(last ?? dataDir ?? '/')
  const taken = new Set(recentPaths)
  for (let i = 1; ; i++) {
    const candidate = `${parent}${separator}${stem}${i > 1 ? `-${i}` : ''}`
    if (!taken.has(candidate)) return candidate
  }
}
