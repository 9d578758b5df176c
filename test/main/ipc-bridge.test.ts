import { EventEmitter } from 'node:events'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createWorkbenchServer, type WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import { createJsonSettingsStore } from '../../src/engine/api/settings-store'
import { IPC_CHANNEL } from '../../src/shared/contract'

vi.mock('electron', () => ({}))
const { connectWindow, isTrustedSender } = await import('../../src/main/ipc-bridge')

const APP = 'workbench://app'

/** A frame as Electron describes it: process, routing id, URL. */
const frame = (processId: number, routingId: number, url = `${APP}/index.html`) => ({ processId, routingId, url })

/** Our window: its web contents, whose main frame is (7, 1), and whose sends we record. */
function fakeWindow() {
  const sent: unknown[] = []
  const webContents = { mainFrame: frame(7, 1), send: (channel: string, message: unknown) => sent.push({ channel, message }) }
  return { win: { webContents, isDestroyed: () => false }, sent }
}

let server: WorkbenchServer
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wb-ipc-'))
  server = createWorkbenchServer({
    host: 'test',
    appVersion: '0.0.0-test',
    runsDir: join(dir, 'runs'),
    // No request in this file trains: a trainer start would be a bug.
    launchTrainer: () => {
      throw new Error('trainer must not start')
    },
    settings: createJsonSettingsStore(join(dir, 'settings.json'))
  })
})
afterAll(() => server.shutdown())

describe('IPC sender check (electron mocked)', () => {
  it('accepts only our window’s own top frame showing our page', () => {
    const { win } = fakeWindow()
    const ours = { sender: win.webContents, senderFrame: frame(7, 1) }
    expect(isTrustedSender(ours as never, win as never, APP)).toBe(true)
    // An iframe inside our window.
    expect(isTrustedSender({ sender: win.webContents, senderFrame: frame(7, 2) } as never, win as never, APP)).toBe(false)
    // Another window's contents.
    expect(isTrustedSender({ sender: { other: true }, senderFrame: frame(7, 1) } as never, win as never, APP)).toBe(false)
    // Our frame, navigated somewhere else.
    expect(isTrustedSender({ sender: win.webContents, senderFrame: frame(7, 1, 'https://evil.example/') } as never, win as never, APP)).toBe(false)
    // A frame that is gone.
    expect(isTrustedSender({ sender: win.webContents, senderFrame: null } as never, win as never, APP)).toBe(false)
    // A destroyed window.
    expect(isTrustedSender(ours as never, { ...win, isDestroyed: () => true } as never, APP)).toBe(false)
  })

  it('answers requests from our frame and drops those from a foreign frame', async () => {
    const { win, sent } = fakeWindow()
    const ipcMain = new EventEmitter()
    const connection = connectWindow(server, win as never, ipcMain as never, APP)
    const request = (id: string) => ({ t: 'q', m: 'getAppInfo', a: [], i: id })

    ipcMain.emit(IPC_CHANNEL, { sender: win.webContents, senderFrame: frame(7, 5) }, request('foreign'))
    ipcMain.emit(IPC_CHANNEL, { sender: win.webContents, senderFrame: frame(7, 1) }, request('ours'))
    await vi.waitFor(() => expect(sent).toHaveLength(1))
    await new Promise((r) => setTimeout(r, 50))
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({ channel: IPC_CHANNEL, message: { t: 's', i: 'ours', r: { name: 'Transfer Workbench', host: 'test' } } })

    // Events reach the window too; after close, neither requests nor events do.
    server.broadcast({ type: 'app:command', command: 'project:new' })
    await vi.waitFor(() => expect(sent).toHaveLength(2))
    expect(sent[1]).toMatchObject({ message: { t: 'q', m: 'onEvent', a: [{ type: 'app:command', command: 'project:new' }] } })
    connection.close()
    ipcMain.emit(IPC_CHANNEL, { sender: win.webContents, senderFrame: frame(7, 1) }, request('late'))
    server.broadcast({ type: 'app:command', command: 'project:close' })
    await new Promise((r) => setTimeout(r, 50))
    expect(sent).toHaveLength(2)
    expect(ipcMain.listenerCount(IPC_CHANNEL)).toBe(0)
  })
})
