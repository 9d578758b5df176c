import Store from 'electron-store'
import { DEFAULT_SETTINGS, type Settings, type SettingsStore } from '../engine/api/settings-store'

/** Settings in electron-store (a JSON file in the user's app data folder, written atomically). */
export function createElectronSettingsStore(): SettingsStore {
  const store = new Store<Settings>({ name: 'settings', defaults: { ...DEFAULT_SETTINGS, recentProjects: [] } })
  return {
    get: (key) => store.get(key),
    // The object form: electron-store's key form refuses null values in its types (runsDir may be null).
    set: (key, value) => store.set({ [key]: value } as Partial<Settings>)
  }
}
