import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isEventFor, type WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import { connectInMemory, createTestServer, recordEvents } from './workbench-harness'

// Two windows or browser tabs on one engine: each keeps the project it opened (issue 18, item 12).
let server: WorkbenchServer
let dir: string
const clients: WorkbenchClient[] = []

beforeAll(async () => {
  ;({ server, dir } = await createTestServer())
})

afterAll(async () => {
  for (const c of clients) c.close()
  await server.shutdown()
})

function connect(): WorkbenchClient {
  const client = connectInMemory(server)
  clients.push(client)
  return client
}

describe('one open project per client', () => {
  it('keeps each tab in its own project, tells each only of its own, and starts a new tab where the last one opened', async () => {
    const first = connect()
    const second = connect()
    const firstEvents = recordEvents(first)
    const secondEvents = recordEvents(second)
    const x = join(dir, 'project-x')
    const y = join(dir, 'project-y')

    await first.api.createProject({ dir: x, name: 'X' })
    await second.api.createProject({ dir: y, name: 'Y' })
    expect((await first.api.getProject())?.manifest.name).toBe('X')
    expect((await second.api.getProject())?.manifest.name).toBe('Y')

    // Y's change reaches only the tab that has Y open.
    await secondEvents.waitFor((e) => e.type === 'project:changed' && e.project?.manifest.name === 'Y')
    const namesSeenByFirst = firstEvents.events.flatMap((e) => (e.type === 'project:changed' ? [e.project?.manifest.name ?? null] : []))
    expect(namesSeenByFirst).toEqual(['X'])

    // A tab opened now starts in the project opened last; closing it there leaves the others alone.
    const third = connect()
    expect((await third.api.getProject())?.manifest.name).toBe('Y')
    await third.api.closeProject()
    expect(await third.api.getProject()).toBeNull()
    expect((await second.api.getProject())?.manifest.name).toBe('Y')
    expect((await first.api.getProject())?.manifest.name).toBe('X')
    // The tab that closed its project was the only one told so.
    expect(secondEvents.events.some((e) => e.type === 'project:changed' && e.project === null)).toBe(false)

    // Closed last: a fourth tab starts with no project rather than in one somebody closed.
    expect(await connect().api.getProject()).toBeNull()
  })

  it('reports a project folder that is gone as missing, not as a folder without project.json', async () => {
    const client = connect()
    const gone = join(dir, 'moved-away')
    await client.api.createProject({ dir: gone, name: 'Gone' })
    await client.api.closeProject()
    await rm(gone, { recursive: true })
    expect(existsSync(gone)).toBe(false)
    await expect(client.api.openProject({ dir: gone })).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('the project folder does not exist') })
  })

  it('routes project and sweep events by folder, and everything else to everyone', () => {
    const view = { dir: '/p/x', manifest: { name: 'X' }, runs: [] } as never
    expect(isEventFor({ type: 'project:changed', project: view }, '/p/x')).toBe(true)
    expect(isEventFor({ type: 'project:changed', project: view }, '/p/y')).toBe(false)
    expect(isEventFor({ type: 'project:changed', project: null }, null)).toBe(true)
    expect(isEventFor({ type: 'project:changed', project: null }, '/p/y')).toBe(false)
    const sweep = { state: 'running', index: 1, total: 3, currentRunId: null, message: '', projectDir: '/p/x' } as const
    expect(isEventFor({ type: 'sweep:status', status: sweep }, '/p/x')).toBe(true)
    expect(isEventFor({ type: 'sweep:status', status: sweep }, '/p/y')).toBe(false)
    expect(isEventFor({ type: 'engine:status', status: {} as never }, '/p/y')).toBe(true)
  })
})
