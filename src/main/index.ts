/**
 * Electron main: one locked-down window, the native menus, the contract over IPC, and the trainer
 * as a utility process. Everything the UI can ask for is in src/engine/api; this file only wires it
 * to Electron.
 */
import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron'
import { createWorkbenchServer, type WorkbenchServer } from '../engine/api/create-workbench-server'
import { addRecentProject, type SettingsStore } from '../engine/api/settings-store'
import type { AppCommand, AppInfo, EngineStatus } from '../shared/contract'
import trainerEntry from '../engine/process/trainer-entry?modulePath'
import probeEntry from '../engine/api/backend-probe-entry?modulePath'
import trainWorkerEntry from '../engine/train/parallel/train-worker-entry?modulePath'
// electron-vite turns this into resources/icon.png's path relative to the built main (out/main).
import appIcon from '../../resources/icon.png?asset'
import { TRAIN_WORKER_ENTRY_ENV } from '../engine/train/parallel/worker-protocol'
import { formatAboutDetail } from './about-text'
import { buildAppMenuTemplate } from './app-menu'
import { APP_ORIGIN, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './app-protocol'
import { createElectronSettingsStore } from './electron-settings-store'
import { connectWindow } from './ipc-bridge'
import { findProjectPathInArgv } from './project-path-arg'
import { forkUtilityProcess } from './utility-process-adapter'
import { denyAllPermissions, hardenWebContents, secureWebPreferences } from './web-security'

const devUrl = process.env['ELECTRON_RENDERER_URL']
const appOrigin = devUrl ? new URL(devUrl).origin : APP_ORIGIN

/** The arguments the user (or the OS) gave, without the executable and, in development, the app path. */
const userArgs = (argv: readonly string[]): string[] => argv.slice(process.defaultApp ? 2 : 1)

// Single instance: a second launch (e.g. opening a project folder from the file manager) hands its
// arguments to this one and quits.
if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }])
  // Every web contents, whatever creates it, gets the same locks.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents))
  void app.whenReady().then(start)
}

let mainWindow: BrowserWindow | undefined
let server: WorkbenchServer | undefined
let settings: SettingsStore | undefined

function start(): void {
  denyAllPermissions(session.defaultSession)
  protocol.handle(APP_SCHEME, createAppProtocolHandler(join(import.meta.dirname, '../renderer')))
  settings = createElectronSettingsStore()
  server = createWorkbenchServer({
    host: 'electron',
    appVersion: app.getVersion(),
    runsDir: settings.get('runsDir') ?? join(app.getPath('userData'), 'runs'),
    // The trainer starts its data-parallel worker threads on the built worker entry.
    launchTrainer: () => forkUtilityProcess(trainerEntry, 'Transfer Workbench trainer', { ...process.env, [TRAIN_WORKER_ENTRY_ENV]: trainWorkerEntry }),
    launchProbe: () => forkUtilityProcess(probeEntry, 'Transfer Workbench backend probe'),
    settings
  })
  mainWindow = createMainWindow(server)
  installMenu()

  app.on('second-instance', (_event, argv, cwd) => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore()
      mainWindow.focus()
    }
    const path = findProjectPathInArgv(userArgs(argv), cwd)
    if (path) openProjectPath(path)
  })
  const initial = findProjectPathInArgv(userArgs(process.argv), process.cwd())
  if (initial) mainWindow.webContents.once('did-finish-load', () => openProjectPath(initial))
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0 && server) mainWindow = createMainWindow(server)
  })
}

/** Creates the workbench window with the renderer locked down and connected to the API. */
function createMainWindow(api: WorkbenchServer): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'Transfer Workbench',
    icon: appIcon,
    webPreferences: secureWebPreferences(join(import.meta.dirname, '../preload/index.cjs'))
  })
  const connection = connectWindow(api, win, ipcMain, appOrigin)
  win.on('closed', () => connection.close())
  win.once('ready-to-show', () => win.show())
  void win.loadURL(devUrl ?? `${APP_ORIGIN}/index.html`)
  return win
}

function sendCommand(command: AppCommand, path?: string): void {
  server?.broadcast({ type: 'app:command', command, ...(path ? { path } : {}) })
}

/** Asks the renderer to open a project folder, and remembers it for File → Open Recent. */
function openProjectPath(path: string): void {
  if (settings) addRecentProject(settings, path)
  installMenu()
  sendCommand('project:open', path)
}

function installMenu(): void {
  const template = buildAppMenuTemplate({
    recent: settings?.get('recentProjects') ?? [],
    isDev: Boolean(devUrl) || !app.isPackaged,
    isMac: process.platform === 'darwin',
    actions: {
      command: (command) => sendCommand(command),
      openProject: () => {
        if (!mainWindow) return
        void dialog.showOpenDialog(mainWindow, { title: 'Open Project', properties: ['openDirectory'] }).then((result) => {
          const path = result.filePaths[0]
          if (!result.canceled && path) openProjectPath(path)
        })
      },
      openRecent: (path) => openProjectPath(path),
      clearRecent: () => {
        settings?.set('recentProjects', [])
        installMenu()
      },
      showAbout: () => void showAbout()
    }
  })
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}

async function showAbout(): Promise<void> {
  if (!server || !mainWindow) return
  const info = (await server.handlers.getAppInfo()) as AppInfo
  // Asking for the status starts the backend probe if it has not run; the dialog says so meanwhile.
  const status = (await server.handlers.getEngineStatus()) as EngineStatus
  await dialog.showMessageBox(mainWindow, {
    type: 'info',
    title: 'About Transfer Workbench',
    message: 'Transfer Workbench',
    detail: formatAboutDetail(info, status),
    icon: appIcon
  })
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

// Stop the trainer cleanly before quitting (a running run ends as interrupted, resumable).
let stopped = false
app.on('before-quit', (event) => {
  if (stopped || !server) return
  event.preventDefault()
  void server.shutdown().finally(() => {
    stopped = true
    app.quit()
  })
})
