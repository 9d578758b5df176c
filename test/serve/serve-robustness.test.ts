/**
 * serve mode against a hostile or unlucky world: files that vanish or fail to read while a request is
 * served (the response fails, the process keeps serving), and Host headers of pages that pointed their
 * DNS name at us (DNS rebinding: 403 even with the token). HTTP only; no engine behind the socket.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { connect } from 'node:net'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import type { WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import { allowedHosts, SOCKET_PATH, startServeServer, type RunningServe } from '../../src/engine/api/serve-server'

// A file named vanishing.js is removed just as the server reaches for it: after a stat, before an
// open (whichever the server does first), as when `out/` is rebuilt while serving.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>()
  const vanish = async (path: unknown): Promise<void> => {
    if (String(path).endsWith('vanishing.js')) await real.rm(String(path), { force: true })
  }
  const mocked = {
    ...real,
    stat: (async (path: Parameters<typeof real.stat>[0], ...rest: unknown[]) => {
      const info = await (real.stat as (...a: unknown[]) => Promise<unknown>)(path, ...rest)
      await vanish(path)
      return info
    }) as typeof real.stat,
    open: (async (path: Parameters<typeof real.open>[0], ...rest: unknown[]) => {
      await vanish(path)
      return (real.open as (...a: unknown[]) => Promise<unknown>)(path, ...rest)
    }) as typeof real.open
  }
  return { ...mocked, default: mocked }
})

let serve: RunningServe
let rendererDir: string
const crashes: unknown[] = []
const onCrash = (error: unknown): void => void crashes.push(error)

beforeAll(async () => {
  rendererDir = join(await mkdtemp(join(tmpdir(), 'wb-serve-robust-')), 'renderer')
  await mkdir(rendererDir, { recursive: true })
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>workbench page</title>')
  // Only the HTTP side is exercised; a refused socket never reaches the engine.
  serve = await startServeServer({ server: {} as WorkbenchServer, rendererDir, host: '127.0.0.1', port: 0 })
})

afterAll(async () => {
  await serve.close()
  await rm(join(rendererDir, '..'), { recursive: true, force: true })
})

beforeEach(() => {
  crashes.length = 0
  process.on('uncaughtException', onCrash)
})

afterEach(() => {
  process.off('uncaughtException', onCrash)
})

interface Reply {
  status: number
  body: string
  /** The connection was cut before the response ended. */
  aborted: boolean
}

/** A GET with the token and the given headers; never rejects on a cut connection. */
function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sep = path.includes('?') ? '&' : '?'
    const req = request(`http://127.0.0.1:${serve.port}${path}${sep}token=${serve.token}`, { headers }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, aborted: false }))
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, aborted: true }))
    })
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve({ status: 0, body: '', aborted: true }) : reject(error)))
    // A response left hanging (headers sent, the file never coming) is a failure too.
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${path}: no complete answer within 5 s`)))
    req.end()
  })
}

/** The server still answers, and nothing escaped as an uncaught exception (what kills `serve`). */
async function expectStillServing(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50))
  const page = await get('/')
  expect(page.status).toBe(200)
  expect(page.body).toContain('workbench page')
  expect(crashes).toEqual([])
}

describe('serve: a failing file ends its response, never the process', () => {
  it('a file removed between the check and the read gets a 404, and the server keeps serving', async () => {
    await writeFile(join(rendererDir, 'vanishing.js'), 'export const gone = 1')
    const reply = await get('/vanishing.js')
    expect(reply.status).toBe(404)
    expect(reply.body).not.toContain('gone')
    await expectStillServing()
  })

  it.skipIf(process.platform !== 'linux')('a read error (an unreadable file: /proc/self/mem) gets a 500, and the server keeps serving', async () => {
    // Opens and stats as a regular file of 0 bytes; the first read fails with EIO.
    await symlink('/proc/self/mem', join(rendererDir, 'broken.js'))
    let log = ''
    const logged = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((log += String(chunk)), true))
    const reply = await get('/broken.js').finally(() => logged.mockRestore())
    // One line on serve's stderr naming the file.
    expect(log).toMatch(/broken\.js: EIO/)
    expect(reply.aborted || reply.status === 500, JSON.stringify(reply)).toBe(true)
    expect(reply.status).not.toBe(200)
    await expectStillServing()
  })
})

describe('serve: the Host header (DNS rebinding)', () => {
  it('answers a foreign Host with 403, even with the token; its own names with the page', async () => {
    for (const host of ['evil.example', `evil.example:${serve.port}`, `localhost:${serve.port + 1}`, `127.0.0.1.evil.example:${serve.port}`]) {
      const reply = await get('/', { Host: host })
      expect(reply.status, host).toBe(403)
      expect(reply.body).not.toContain('workbench page')
    }
    // No Host header at all (HTTP/1.0): refused too.
    const bare = await new Promise<string>((resolve, reject) => {
      const socket = connect(serve.port, '127.0.0.1', () => socket.end(`GET /?token=${serve.token} HTTP/1.0\r\n\r\n`))
      let text = ''
      socket.on('data', (d: Buffer) => (text += d.toString()))
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })
    expect(bare.split('\r\n')[0]).toMatch(/^HTTP\/1\.[01] 403/)
    for (const host of [`127.0.0.1:${serve.port}`, `localhost:${serve.port}`, `LOCALHOST:${serve.port}`, `[::1]:${serve.port}`]) {
      expect((await get('/', { Host: host })).status, host).toBe(200)
    }
  })

  it('refuses a WebSocket with a foreign Host (and a matching Origin), even with the token', async () => {
    const status = await new Promise<number | 'open'>((resolve, reject) => {
      const host = `evil.example:${serve.port}`
      const ws = new WebSocket(`ws://127.0.0.1:${serve.port}${SOCKET_PATH}?token=${serve.token}`, { headers: { Host: host, Origin: `http://${host}` } })
      ws.once('open', () => {
        ws.close()
        resolve('open')
      })
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.once('error', reject)
    })
    expect(status).toBe(403)
  })

  it('answers the bound address, the loopback names, and on a wildcard bind this machine’s own name — only with the port', () => {
    expect([...allowedHosts('127.0.0.1', 8123)].sort()).toEqual(['127.0.0.1:8123', '[::1]:8123', 'localhost:8123'])
    expect(allowedHosts('::1', 8123).has('[::1]:8123')).toBe(true)
    const named = allowedHosts('gpu-box.lab', 8123)
    expect(named.has('gpu-box.lab:8123')).toBe(true)
    expect(named.has('gpu-box.lab:80')).toBe(false)
    const wildcard = allowedHosts('0.0.0.0', 8123)
    expect(wildcard.has(`${hostname().toLowerCase()}:8123`)).toBe(true)
    expect(wildcard.has('evil.example:8123')).toBe(false)
  })
})
