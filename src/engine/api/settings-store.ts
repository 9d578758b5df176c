/**
 * App preferences and recent projects, behind one small interface: Electron main keeps them in
 * electron-store (src/main), serve mode and tests in a plain JSON file (here), and nothing else
 * knows which.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { RecentProject } from '../../shared/contract'
import { writeFileAtomic } from '../project/atomic-files'

/** Everything the app remembers between sessions. */
export interface Settings {
  recentProjects: RecentProject[]
  /** Where runs started outside a project go (null: the host's default). */
  runsDir: string | null
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({ recentProjects: [], runsDir: null })

/** At most this many recent projects are kept (the File → Open Recent menu stays short). */
export const MAX_RECENT_PROJECTS = 10

export interface SettingsStore {
  get<K extends keyof Settings>(key: K): Settings[K]
  set<K extends keyof Settings>(key: K, value: Settings[K]): void
}

/** Puts a project at the top of the recent list (once), trimming the list. */
export function addRecentProject(store: SettingsStore, path: string, now = new Date()): RecentProject[] {
  const entry: RecentProject = { path, name: basename(path), openedAt: now.toISOString() }
  const list = [entry, ...store.get('recentProjects').filter((p) => p.path !== path)].slice(0, MAX_RECENT_PROJECTS)
  store.set('recentProjects', list)
  return list
}

/**
 * A settings store in one JSON file. Reads once; every `set` rewrites the file atomically. A missing
 * or unreadable file means defaults (a corrupt settings file must not stop the app from starting).
 */
export function createJsonSettingsStore(file: string): SettingsStore & { saved: Promise<void> } {
  let data: Settings = { ...DEFAULT_SETTINGS }
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Settings>
    data = { ...data, ...sanitize(parsed) }
  } catch {
    // Defaults.
  }
  const store = {
    saved: Promise.resolve(),
    get: <K extends keyof Settings>(key: K): Settings[K] => structuredClone(data[key]),
    set: <K extends keyof Settings>(key: K, value: Settings[K]): void => {
      data = { ...data, [key]: structuredClone(value) }
      const snapshot = JSON.stringify(data, null, 2)
      // Writes queue up in order; `saved` lets tests (and shutdown) wait for the last one.
      store.saved = store.saved.then(() => writeFileAtomic(file, snapshot)).catch((error: unknown) => {
        process.stderr.write(`settings: could not save ${file}: ${(error as Error).message}\n`)
      })
    }
  }
  return store
}

/** Keeps only well-formed values from a settings file written by another version or by hand. */
function sanitize(raw: Partial<Settings>): Partial<Settings> {
  const out: Partial<Settings> = {}
  if (Array.isArray(raw.recentProjects)) {
    out.recentProjects = raw.recentProjects.filter(
      (p): p is RecentProject => typeof p?.path === 'string' && typeof p?.name === 'string' && typeof p?.openedAt === 'string'
    )
  }
  if (typeof raw.runsDir === 'string' || raw.runsDir === null) out.runsDir = raw.runsDir
  return out
}
