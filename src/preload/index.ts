/**
 * The whole bridge between the sandboxed page and main: send one message, receive messages. The page
 * never sees ipcRenderer, Node or Electron; the contract's messages (birpc) ride on this one channel,
 * and main checks that they come from our window's own frame. Built as CommonJS for the sandbox.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { IPC_CHANNEL } from '../shared/contract'

const bridge = {
  send: (message: unknown): void => ipcRenderer.send(IPC_CHANNEL, message),
  onMessage: (listener: (message: unknown) => void): (() => void) => {
    // The event object (with `sender`) stays here: the page gets the message only.
    const wrapped = (_event: IpcRendererEvent, message: unknown): void => listener(message)
    ipcRenderer.on(IPC_CHANNEL, wrapped)
    return () => {
      ipcRenderer.removeListener(IPC_CHANNEL, wrapped)
    }
  }
}

contextBridge.exposeInMainWorld('workbench', bridge)
