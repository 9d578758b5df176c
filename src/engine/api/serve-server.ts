import { randomBytes, timingSafeEqual } from 'node:crypto'
import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { isIP, type AddressInfo } from 'node:net'
import { hostname, networkInterfaces } from 'node:os'
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

/** `[::1]` for an IPv6 address, the name or IPv4 address as it is otherwise: as a Host header writes it. */
function hostForm(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host.toLowerCase()
}

/**
 * The `Host` headers this server answers (host and port, lower case): the bound address, and
 * localhost, 127.0.0.1 and [::1]. A wildcard bind (0.0.0.0, ::) adds this machine's name and its
 * interfaces' addresses. Anything else is a page whose DNS name was pointed at us (DNS rebinding):
 * the browser would send the token cookie along, so the token alone does not stop it.
 */
export function allowedHosts(boundHost: string, port: number): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', hostForm(boundHost)])
  if (boundHost === '0.0.0.0' || boundHost === '::' || boundHost === '') {
    names.add(hostname().toLowerCase())
    for (const list of Object.values(networkInterfaces())) for (const address of list ?? []) names.add(hostForm(address.address.replace(/%.*$/, '')))
  }
  return new Set([...names].map((name) => `${name}:${port}`))
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

/** Opens a static file for reading; undefined when it is not there (or not readable) any more. */
async function openFile(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined
    throw error
  }
}

/** Ends a response that failed: a 500 when nothing was sent yet, else the connection is cut (the client sees a short body). */
function failResponse(res: ServerResponse, message: string): void {
  process.stderr.write(`${message}\n`)
  if (!res.headersSent) {
    for (const name of res.getHeaderNames()) if (!['x-content-type-options', 'referrer-policy'].includes(name)) res.removeHeader(name)
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('500: the file could not be read\n')
  } else res.destroy()
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

  // Filled in once the port is known (port 0 picks one); until then nothing is answered anyway.
  let hosts = new Set<string>()
  const knownHost = (req: IncomingMessage): boolean => hosts.has((req.headers.host ?? '').toLowerCase())

  const http = createServer((req, res) => {
    void serveFile(req, res).catch((error: unknown) => failResponse(res, `serve: ${req.url}: ${(error as Error).message}`))
  })

  async function serveFile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    // The token is in the page URL: never let it leak to another site as a Referer.
    res.setHeader('Referrer-Policy', 'no-referrer')
    if (!knownHost(req)) {
      // No list of the names it does answer: the asker may be a page that rebound its DNS name to us.
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('403: not this server\'s address; open the URL printed by `serve` (an SSH tunnel must forward the same port number)\n')
      return
    }
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
    // Opened first, then asked what it is: no gap in which the file can vanish or be swapped (a rebuilt
    // out/ while serving). Non-blocking, so a named pipe put there cannot stall the open.
    const handle = file ? await openFile(file) : undefined
    const info = handle ? await handle.stat().catch(() => undefined) : undefined
    if (!file || !handle || !info?.isFile()) {
      await handle?.close().catch(() => undefined)
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    const type = contentTypeFor(file)
    // Set, not written: the status line goes out with the first bytes read, so a read that fails at
    // once still turns into a 500.
    res.statusCode = 200
    res.setHeader('Content-Type', type)
    res.setHeader('Content-Length', info.size)
    res.setHeader('Cache-Control', 'no-store')
    if (type.startsWith('text/html')) res.setHeader('Content-Security-Policy', RENDERER_CSP)
    if (req.method === 'HEAD') {
      await handle.close()
      res.end()
      return
    }
    const stream = handle.createReadStream()
    // Every stream error ends this response, never the process.
    stream.on('error', (error) => failResponse(res, `serve: ${file}: ${error.message}`))
    res.on('error', () => stream.destroy())
    // A client gone mid-file: stop reading and release the file.
    res.on('close', () => stream.destroy())
    stream.pipe(res)
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    if (!knownHost(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
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
  hosts = allowedHosts(options.host, port)
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
