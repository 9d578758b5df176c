import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { connectClient } from './connect-client'
import type { WorkbenchServer } from './create-workbench-server'
import { contentTypeFor, RENDERER_CSP, resolveStaticPath } from './static-files'

/** Path of the WebSocket endpoint (the renderer's transport module uses the same). */
export const SOCKET_PATH = '/rpc'
/** Cookie that carries the token for the page's own assets after the first authorized request. */
export const TOKEN_COOKIE = 'workbench_token'
/** Incoming WebSocket messages are requests: small. Bounded so a client cannot make us buffer gigabytes. */
const MAX_MESSAGE_BYTES = 1 << 20

export interface ServeServerOptions {
  server: WorkbenchServer
  /** The built renderer (`out/renderer`). */
  rendererDir: string
  host: string
  /** 0 picks a free port. */
  port: number
  /** Defaults to 32 random bytes. */
  token?: string
}

export interface RunningServe {
  /** The URL to open, token included. */
  url: string
  port: number
  token: string
  close(): Promise<void>
}

/** Whether an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
}

function sameSecret(given: string | null | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === TOKEN_COOKIE) return value.join('=')
  }
  return undefined
}

/**
 * Serves the built renderer over HTTP and the contract over a WebSocket. Every request needs the
 * token: in the URL (`?token=`), or in the cookie set by the first authorized page load (so the page's
 * own scripts load without it). Anything else gets 401 and no data.
 */
export async function startServeServer(options: ServeServerOptions): Promise<RunningServe> {
  const token = options.token ?? randomBytes(32).toString('base64url')
  const rendererDir = resolve(options.rendererDir)
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })

  const authorized = (req: IncomingMessage): { ok: boolean; viaQuery: boolean } => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (sameSecret(url.searchParams.get('token'), token)) return { ok: true, viaQuery: true }
    return { ok: sameSecret(cookieToken(req), token), viaQuery: false }
  }

  const http = createServer((req, res) => {
    void serveFile(req, res).catch((error: unknown) => {
      process.stderr.write(`serve: ${req.url}: ${(error as Error).message}\n`)
      if (!res.headersSent) res.writeHead(500).end()
      else res.destroy()
    })
  })

  async function serveFile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    // The token is in the page URL: never let it leak to another site as a Referer.
    res.setHeader('Referrer-Policy', 'no-referrer')
    const auth = authorized(req)
    if (!auth.ok) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' }).end('401: open the URL printed by `serve`, token included\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end()
      return
    }
    if (auth.viaQuery) res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`)
    const file = resolveStaticPath(rendererDir, new URL(req.url ?? '/', 'http://localhost').pathname)
    const info = file ? await stat(file).catch(() => undefined) : undefined
    if (!file || !info?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    const type = contentTypeFor(file)
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': info.size,
      'Cache-Control': 'no-store',
      ...(type.startsWith('text/html') ? { 'Content-Security-Policy': RENDERER_CSP } : {})
    })
    if (req.method === 'HEAD') res.end()
    else createReadStream(file).pipe(res)
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    // A page on another site must not drive the engine through the user's browser (cross-site WebSocket hijacking).
    const origin = req.headers.origin
    const sameOrigin = origin === undefined || origin === `http://${req.headers.host}`
    if (url.pathname !== SOCKET_PATH || !authorized(req).ok || !sameOrigin) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    sockets.handleUpgrade(req, socket, head, (ws) => attach(ws))
  })

  function attach(ws: WebSocket): void {
    const connection = connectClient(options.server, {
      send: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message))
      },
      onMessage: (listener) =>
        ws.on('message', (data, isBinary) => {
          let message: unknown
          try {
            if (isBinary) throw new Error('binary')
            message = JSON.parse(data.toString())
          } catch {
            ws.close(1007, 'messages are JSON text')
            return
          }
          listener(message)
        })
    })
    ws.on('close', () => connection.close())
    ws.on('error', () => connection.close())
  }

  await new Promise<void>((resolveListen, reject) => {
    http.once('error', reject)
    http.listen(options.port, options.host, () => resolveListen())
  })
  const port = (http.address() as AddressInfo).port
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host === '0.0.0.0' ? '127.0.0.1' : options.host
  return {
    url: `http://${urlHost}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate()
      sockets.close()
      const closed = new Promise<void>((done) => http.close(() => done()))
      // Idle keep-alive connections would hold close() open for seconds.
      http.closeAllConnections()
      await closed
    }
  }
}
