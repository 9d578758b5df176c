import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addRecentProject, createJsonSettingsStore, MAX_RECENT_PROJECTS } from '../../src/engine/api/settings-store'

describe('JSON settings store', () => {
  it('starts from defaults, saves atomically, and reads back in a new store', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'wb-settings-')), 'sub', 'settings.json')
    const store = createJsonSettingsStore(file)
    expect(store.get('recentProjects')).toEqual([])
    expect(store.get('runsDir')).toBeNull()
    store.set('runsDir', '/data/runs')
    addRecentProject(store, '/p/one', new Date('2024-01-01T00:00:00Z'))
    addRecentProject(store, '/p/two', new Date('2024-01-02T00:00:00Z'))
    addRecentProject(store, '/p/one', new Date('2024-01-03T00:00:00Z'))
    await store.saved
    const again = createJsonSettingsStore(file)
    expect(again.get('runsDir')).toBe('/data/runs')
    expect(again.get('recentProjects').map((p) => [p.path, p.name, p.openedAt])).toEqual([
      ['/p/one', 'one', '2024-01-03T00:00:00.000Z'],
      ['/p/two', 'two', '2024-01-02T00:00:00.000Z']
    ])
    expect(JSON.parse(await readFile(file, 'utf8')).runsDir).toBe('/data/runs')
  })

  it('keeps the recent list short', async () => {
    const store = createJsonSettingsStore(join(await mkdtemp(join(tmpdir(), 'wb-settings-')), 's.json'))
    for (let i = 0; i < MAX_RECENT_PROJECTS + 5; i++) addRecentProject(store, `/p/${i}`)
    expect(store.get('recentProjects')).toHaveLength(MAX_RECENT_PROJECTS)
    expect(store.get('recentProjects')[0]?.path).toBe(`/p/${MAX_RECENT_PROJECTS + 4}`)
    await store.saved
  })

  it('treats a corrupt file as defaults and drops malformed entries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wb-settings-'))
    await writeFile(join(dir, 'bad.json'), '{ not json')
    expect(createJsonSettingsStore(join(dir, 'bad.json')).get('recentProjects')).toEqual([])
    await writeFile(join(dir, 'odd.json'), JSON.stringify({ recentProjects: [{ path: '/ok', name: 'ok', openedAt: 'x' }, { path: 3 }], runsDir: 7 }))
    const odd = createJsonSettingsStore(join(dir, 'odd.json'))
    expect(odd.get('recentProjects')).toEqual([{ path: '/ok', name: 'ok', openedAt: 'x' }])
    expect(odd.get('runsDir')).toBeNull()
  })

  it('hands out copies, so callers cannot change the store by accident', async () => {
    const store = createJsonSettingsStore(join(await mkdtemp(join(tmpdir(), 'wb-settings-')), 's.json'))
    addRecentProject(store, '/p/a')
    store.get('recentProjects').pop()
    expect(store.get('recentProjects')).toHaveLength(1)
    await store.saved
  })
})
