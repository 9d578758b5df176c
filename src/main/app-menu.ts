import type { MenuItemConstructorOptions } from 'electron'
import type { AppCommand, RecentProject } from '../shared/contract'

/** What the menu's items do; main wires these to dialogs, the renderer and the API. */
export interface AppMenuActions {
  /** New / Save As / Close go to the renderer, which owns the project state. */
  command(command: AppCommand): void
  /** Shows the folder picker, then opens the folder. */
  openProject(): void
  openRecent(path: string): void
  clearRecent(): void
  showAbout(): void
}

export interface AppMenuOptions {
  recent: RecentProject[]
  actions: AppMenuActions
  /** Reload and developer tools only while developing. */
  isDev: boolean
  isMac: boolean
}

/** The native menu template: File, View, Help (plus the app menu on macOS). Pure, for testing. */
export function buildAppMenuTemplate({ recent, actions, isDev, isMac }: AppMenuOptions): MenuItemConstructorOptions[] {
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? [
        ...recent.map((project) => ({ label: project.path, click: () => actions.openRecent(project.path) })),
        { type: 'separator' as const },
        { label: 'Clear Recent', click: () => actions.clearRecent() }
      ]
    : [{ label: 'No Recent Projects', enabled: false }]
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'New Project…', accelerator: 'CmdOrCtrl+N', click: () => actions.command('project:new') },
      { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: () => actions.openProject() },
      { label: 'Open Recent', submenu: recentItems },
      { type: 'separator' },
      { label: 'Save Project As…', accelerator: 'CmdOrCtrl+Shift+S', click: () => actions.command('project:save-as') },
      { label: 'Close Project', accelerator: 'CmdOrCtrl+Shift+W', click: () => actions.command('project:close') },
      ...(isMac ? [] : [{ type: 'separator' as const }, { role: 'quit' as const }])
    ]
  }
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...(isDev ? [{ role: 'reload' as const }, { role: 'toggleDevTools' as const }, { type: 'separator' as const }] : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' }
    ]
  }
  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [{ label: 'About Transfer Workbench', click: () => actions.showAbout() }]
  }
  return [...(isMac ? [{ role: 'appMenu' as const }] : []), file, view, help]
}
