/**
 * The one place that knows how the renderer reaches the engine: the Electron preload's bridge when
 * the app runs in Electron, otherwise a WebSocket back to the `serve` host that served this page
 * (with the token from the page's URL). Nothing else in the renderer knows the difference.
 */
import type { Transport } from '../../../shared/rpc-client'

/** What the preload exposes as `window.workbench` (src/preload/index.ts). */
export interface WorkbenchBridge {
  send(message: unknown): void
  onMessage(listener: (message: unknown) => void): () => void
}

declare global {
  interface Window {
    workbench?: WorkbenchBridge
  }
}

/** Path of the serve-mode WebSocket endpoint. */
export const SOCKET_PATH = '/rpc'

/** Picks the transport this page has. */
export function detectTransport(win: Window = window): Transport {
  if (win.workbench) return bridgeTransport(win.workbench)
  return websocketTransport(socketUrl(win.location))
}

/** The WebSocket URL for a page served by `serve`: same host and port, the page's token. */
export function socketUrl(location: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(location.search).get('token') ?? ''
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}${SOCKET_PATH}?token=${encodeURIComponent(token)}`
}

function bridgeTransport(bridge: WorkbenchBridge): Transport {
  // Electron IPC uses structured clone: plain objects cross as they are.
  return { kind: 'electron', send: (m) => bridge.send(m), onMessage: (l) => bridge.onMessage(l) }
}

function websocketTransport(url: string): Transport {
  const socket = new WebSocket(url)
  const queue: string[] = []
  socket.addEventListener('open', () => {
    for (const data of queue.splice(0)) socket.send(data)
  })
  return {
    kind: 'websocket',
    send(message) {
      const data = JSON.stringify(message)
      if (socket.readyState === WebSocket.OPEN) socket.send(data)
      else if (socket.readyState === WebSocket.CONNECTING) queue.push(data)
    },
    onMessage(listener) {
      const handle = (event: MessageEvent): void => {
        if (typeof event.data === 'string') listener(JSON.parse(event.data))
      }
      socket.addEventListener('message', handle)
      return () => socket.removeEventListener('message', handle)
    },
    onStateChange(listener) {
      const opened = (): void => listener('open')
      const closed = (): void => listener('closed')
      socket.addEventListener('open', opened)
      socket.addEventListener('close', closed)
      return () => {
        socket.removeEventListener('open', opened)
        socket.removeEventListener('close', closed)
      }
    },
    close: () => socket.close()
  }
}
