import { describe, expect, it, vi } from 'vitest'
import { formatAboutDetail } from '../../src/main/about-text'
import { buildAppMenuTemplate, type AppMenuActions } from '../../src/main/app-menu'
import type { AppInfo, EngineStatus } from '../../src/shared/contract'
import type { MenuItemConstructorOptions } from 'electron'

const actions = () => ({
  command: vi.fn<AppMenuActions['command']>(),
  openProject: vi.fn<AppMenuActions['openProject']>(),
  openRecent: vi.fn<AppMenuActions['openRecent']>(),
  clearRecent: vi.fn<AppMenuActions['clearRecent']>(),
  showAbout: vi.fn<AppMenuActions['showAbout']>()
})

const items = (menu: MenuItemConstructorOptions | undefined): MenuItemConstructorOptions[] => (menu?.submenu ?? []) as MenuItemConstructorOptions[]
const click = (item: MenuItemConstructorOptions | undefined): void => (item?.click as () => void)()

describe('native menus', () => {
  it('has File (New/Open/Open Recent/Save As/Close), View and Help → About, wired to the actions', () => {
    const a = actions()
    const recent = [{ path: '/p/alpha', name: 'alpha', openedAt: '2024-01-01T00:00:00Z' }]
    const template = buildAppMenuTemplate({ recent, actions: a, isDev: false, isMac: false })
    expect(template.map((m) => m.label ?? m.role)).toEqual(['File', 'View', 'help'])
    const file = items(template[0])
    const byLabel = (label: string) => file.find((i) => i.label === label)
    expect(file.filter((i) => i.label).map((i) => i.label)).toEqual(['New Project…', 'Open Project…', 'Open Recent', 'Save Project As…', 'Close Project'])
    click(byLabel('New Project…'))
    click(byLabel('Save Project As…'))
    click(byLabel('Close Project'))
    expect(a.command.mock.calls).toEqual([['project:new'], ['project:save-as'], ['project:close']])
    click(byLabel('Open Project…'))
    expect(a.openProject).toHaveBeenCalled()
    const recentItems = items(byLabel('Open Recent'))
    click(recentItems[0])
    expect(a.openRecent).toHaveBeenCalledWith('/p/alpha')
    click(recentItems.find((i) => i.label === 'Clear Recent'))
    expect(a.clearRecent).toHaveBeenCalled()
    click(items(template[2])[0])
    expect(a.showAbout).toHaveBeenCalled()
    // No developer tools in a user's build.
    expect(items(template[1]).map((i) => i.role)).not.toContain('toggleDevTools')
    expect(items(buildAppMenuTemplate({ recent, actions: a, isDev: true, isMac: false })[1]).map((i) => i.role)).toContain('toggleDevTools')
  })

  it('says so when there are no recent projects, and uses the app menu on macOS', () => {
    const template = buildAppMenuTemplate({ recent: [], actions: actions(), isDev: false, isMac: true })
    expect(template[0]?.role).toBe('appMenu')
    const recent = items(items(template[1]).find((i) => i.label === 'Open Recent'))
    expect(recent).toEqual([{ label: 'No Recent Projects', enabled: false }])
  })

  it('About names the backend and the device', () => {
    const info: AppInfo = { name: 'Transfer Workbench', version: '1.2.3', contractVersion: 1, host: 'electron', platform: 'linux-x64', versions: { electron: '45', chrome: '140', node: '22' } }
    const status = {
      trainer: 'idle',
      trainerPid: 42,
      restarts: 0,
      lastCrash: null,
      activeRunId: null,
      backendState: 'known',
      backend: { backend: 'wasm', device: 'cpu', label: 'CPU · wasm, 2 training threads', threads: 2, attempts: [], notes: [], gpuProblem: { code: 'forced', message: 'forced by env', fix: 'unset it' } },
      memory: { systemTotalBytes: 1, systemFreeBytes: 1, hostRssBytes: 1, trainerRssBytes: null }
    } satisfies EngineStatus
    const text = formatAboutDetail(info, status)
    expect(text).toContain('Version 1.2.3')
    expect(text).toContain('wasm on CPU')
    expect(text).toContain('No GPU: forced by env')
    expect(formatAboutDetail(info, { ...status, backendState: 'probing', backend: null })).toContain('being determined')
  })
})
