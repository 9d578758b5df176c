import { contextBridge, ipcRenderer } from 'electron'

/** The whole bridge: one channel out, one channel in. The renderer never sees ipcRenderer itself. */
const bridge = {
  send: (message: unknown): void => ipcRenderer.send('workbench:message', message),
  onMessage: (listener: (message: unknown) => void): (() => void) => {
    const wrapped = (_event: unknown, message: unknown): void => listener(message)
    ipcRenderer.on('workbench:message', wrapped)
    return () => ipcRenderer.removeListener('workbench:message', wrapped)
  }
}

contextBridge.exposeInMainWorld('workbench', bridge)
