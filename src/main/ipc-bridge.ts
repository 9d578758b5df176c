import type { BrowserWindow, IpcMain, IpcMainEvent } from 'electron'
import { connectClient } from '../engine/api/connect-client'
import type { WorkbenchServer } from '../engine/api/create-workbench-server'
import { IPC_CHANNEL } from '../shared/contract'

/**
 * Whether an IPC message comes from our window's own top frame, showing our own page. A message from
 * another window, an iframe, or a page that somehow navigated elsewhere is not the app.
 * @param appOrigin the origin our page is served from (`workbench://app`, or the dev server's)
 */
export function isTrustedSender(event: Pick<IpcMainEvent, 'sender' | 'senderFrame'>, win: BrowserWindow, appOrigin: string): boolean {
  if (win.isDestroyed() || event.sender !== win.webContents) return false
  const frame = event.senderFrame
  const main = win.webContents.mainFrame
  if (!frame || frame.processId !== main.processId || frame.routingId !== main.routingId) return false
  try {
    // Not URL.origin: Node's URL says "null" for a custom scheme such as workbench://.
    const url = new URL(frame.url)
    return `${url.protocol}//${url.host}` === appOrigin
  } catch {
    return false
  }
}

/**
 * Serves the contract to one window over the preload's single channel: messages from anyone but the
 * window's own frame are dropped, events go back with `webContents.send`.
 * @returns close: detaches the window (call it when the window closes)
 */
export function connectWindow(server: WorkbenchServer, win: BrowserWindow, ipcMain: IpcMain, appOrigin: string): { close(): void } {
  const listeners: ((message: unknown) => void)[] = []
  const onIpc = (event: IpcMainEvent, message: unknown): void => {
    if (!isTrustedSender(event, win, appOrigin)) {
      process.stderr.write(`workbench: dropped an IPC message from an untrusted frame (${event.senderFrame?.url ?? 'unknown'})\n`)
      return
    }
    for (const listener of listeners) listener(message)
  }
  ipcMain.on(IPC_CHANNEL, onIpc)
  const connection = connectClient(server, {
    send: (message) => {
      if (!win.isDestroyed()) win.webContents.send(IPC_CHANNEL, message)
    },
    onMessage: (listener) => {
      listeners.push(listener)
    }
  })
  return {
    close() {
      ipcMain.removeListener(IPC_CHANNEL, onIpc)
      connection.close()
    }
  }
}
