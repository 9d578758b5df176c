import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { IPC_CHANNEL } from '../../src/shared/contract'

// Electron main's wiring (src/main/index.ts) with electron mocked: what it asks of Electron at start,
// the window it creates, and how it reacts to a second instance and to quitting.

const state = vi.hoisted(() => ({ userData: '', gotLock: true }))
/** Where electron-vite's `?asset` import points in the built app: the repository's resources/ (built main and src/main sit equally deep). */
const APP_ICON = await vi.hoisted(async () => {
  const { fileURLToPath } = await import('node:url')
  return fileURLToPath(new URL('../../resources/icon.png', import.meta.url))
})

/** Records everything main does with Electron. */
const electron = await vi.hoisted(async () => {
  const { EventEmitter: Emitter } = await import('node:events')
  const windows: FakeWindow[] = []
  class FakeWebContents extends Emitter {
    sent: { channel: string; message: unknown }[] = []
    mainFrame = { processId: 1, routingId: 1, url: 'workbench://app/index.html' }
    setWindowOpenHandler = (): void => undefined
    send(channel: string, message: unknown): void {
      this.sent.push({ channel, message })
    }
  }
  class FakeWindow extends Emitter {
    webContents = new FakeWebContents()
    loadedUrl = ''
    constructor(readonly options: Record<string, unknown>) {
      super()
      windows.push(this)
    }
    loadURL(url: string): Promise<void> {
      this.loadedUrl = url
      return Promise.resolve()
    }
    isDestroyed = (): boolean => false
    isMinimized = (): boolean => false
    restore = vi.fn()
    focus = vi.fn()
    show = vi.fn()
    static getAllWindows = (): FakeWindow[] => windows
  }
  const app = Object.assign(new Emitter(), {
    requestSingleInstanceLock: vi.fn(() => state.gotLock),
    quit: vi.fn(),
    whenReady: vi.fn(() => Promise.resolve()),
    getVersion: () => '9.9.9',
    getPath: () => state.userData,
    isPackaged: true
  })
  return {
    windows,
    app,
    BrowserWindow: FakeWindow,
    ipcMain: new Emitter(),
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    session: { defaultSession: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() } },
    Menu: { setApplicationMenu: vi.fn(), buildFromTemplate: vi.fn((t: unknown) => t) },
    dialog: { showOpenDialog: vi.fn(), showMessageBox: vi.fn() },
    shell: { openExternal: vi.fn() },
    utilityProcess: { fork: vi.fn() }
  }
})

vi.mock('electron', () => electron)
// Settings in a JSON file instead of electron-store (which needs a real Electron).
vi.mock('../../src/main/electron-settings-store', async () => {
  const { createJsonSettingsStore } = await import('../../src/engine/api/settings-store')
  return { createElectronSettingsStore: () => createJsonSettingsStore(join(state.userData, 'settings.json')) }
})
vi.mock('../../src/engine/process/trainer-entry?modulePath', () => ({ default: '/built/trainer-entry.js' }))
vi.mock('../../src/engine/api/backend-probe-entry?modulePath', () => ({ default: '/built/backend-probe-entry.js' }))
vi.mock('../../src/engine/train/parallel/train-worker-entry?modulePath', () => ({ default: '/built/train-worker-entry.js' }))
vi.mock('../../resources/icon.png?asset', () => ({ default: APP_ICON }))

async function startMain(gotLock = true): Promise<void> {
  state.gotLock = gotLock
  state.userData = await mkdtemp(join(tmpdir(), 'wb-main-'))
  vi.resetModules()
  electron.windows.length = 0
  electron.app.removeAllListeners()
  electron.ipcMain.removeAllListeners()
  await import('../../src/main/index')
  await new Promise((r) => setTimeout(r, 0))
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 20))

describe('Electron main (electron mocked)', () => {
  beforeEach(() => vi.clearAllMocks())

  it('quits at once when another instance holds the lock', async () => {
    await startMain(false)
    expect(electron.app.quit).toHaveBeenCalled()
    expect(electron.windows).toHaveLength(0)
  })

  it('locks down the window, registers the app scheme, denies permissions and installs the menu', async () => {
    await startMain()
    expect(electron.app.requestSingleInstanceLock).toHaveBeenCalled()
    expect(electron.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([{ scheme: 'workbench', privileges: expect.objectContaining({ standard: true, secure: true }) }])
    expect(electron.protocol.handle).toHaveBeenCalledWith('workbench', expect.any(Function))
    expect(electron.session.defaultSession.setPermissionRequestHandler).toHaveBeenCalled()
    expect(electron.app.listenerCount('web-contents-created')).toBe(1)
    expect(electron.windows).toHaveLength(1)
    const win = electron.windows[0]!
    expect(win.options['webPreferences']).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true })
    expect(String((win.options['webPreferences'] as { preload: string }).preload)).toMatch(/preload[/\\]index\.cjs$/)
    // Served from the app scheme, not file://.
    expect(win.loadedUrl).toBe('workbench://app/index.html')
    const menu = electron.Menu.setApplicationMenu.mock.calls[0]?.[0] as { label?: string }[]
    expect(menu.map((m) => m.label)).toContain('File')
  })

  it('gives the window and the About box the app icon, a file that is there', async () => {
    await startMain()
    const win = electron.windows[0]!
    expect(win.options['icon']).toBe(APP_ICON)
    expect(existsSync(APP_ICON)).toBe(true)
    expect(await sharp(APP_ICON).metadata()).toMatchObject({ format: 'png', width: 512, height: 512 })

    // The backend probe it starts never answers here: the About box says the backend is being determined.
    electron.utilityProcess.fork.mockReturnValueOnce(Object.assign(new EventEmitter(), { pid: 1, postMessage: vi.fn(), kill: vi.fn() }))
    const menu = electron.Menu.setApplicationMenu.mock.calls.at(-1)?.[0] as { submenu?: { label?: string; click?: () => void }[] }[]
    const about = menu.flatMap((m) => m.submenu ?? []).find((i) => i.label === 'About Transfer Workbench')
    about?.click?.()
    await flush()
    expect(electron.dialog.showMessageBox).toHaveBeenCalledWith(win, expect.objectContaining({ title: 'About Transfer Workbench', icon: APP_ICON }))
  })

  it('answers the window over IPC, and opens a project folder handed over by a second instance', async () => {
    await startMain()
    const win = electron.windows[0]!
    electron.ipcMain.emit(IPC_CHANNEL, { sender: win.webContents, senderFrame: win.webContents.mainFrame }, { t: 'q', m: 'getAppInfo', a: [], i: 'a1' })
    await flush()
    expect(win.webContents.sent[0]).toMatchObject({ channel: IPC_CHANNEL, message: { i: 'a1', r: { version: '9.9.9', host: 'electron' } } })

    const folder = await mkdtemp(join(tmpdir(), 'wb-project-'))
    electron.app.emit('second-instance', {}, ['/usr/bin/workbench', '--flag', folder], '/')
    await flush()
    expect(win.focus).toHaveBeenCalled()
    const events = win.webContents.sent.map((s) => s.message as { m?: string; a?: unknown[] }).filter((m) => m.m === 'onEvent')
    expect(events.at(-1)?.a?.[0]).toEqual({ type: 'app:command', command: 'project:open', path: folder })
    // …and it joins File → Open Recent.
    const menu = electron.Menu.setApplicationMenu.mock.calls.at(-1)?.[0] as { label?: string; submenu?: { label?: string; submenu?: { label?: string }[] }[] }[]
    const recent = menu.find((m) => m.label === 'File')?.submenu?.find((i) => i.label === 'Open Recent')
    expect(recent?.submenu?.[0]?.label).toBe(folder)
  })

  it('stops the trainer before quitting', async () => {
    await startMain()
    const event = { preventDefault: vi.fn() }
    electron.app.emit('before-quit', event)
    expect(event.preventDefault).toHaveBeenCalled()
    await flush()
    expect(electron.app.quit).toHaveBeenCalledTimes(1)
    // The second before-quit (from that quit) goes through.
    const again = { preventDefault: vi.fn() }
    electron.app.emit('before-quit', again)
    expect(again.preventDefault).not.toHaveBeenCalled()
  })
})
