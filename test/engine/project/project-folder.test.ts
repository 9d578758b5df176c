/**
 * Where a project may live and what its names may hold: kernel folders (/proc, /sys, /dev — where
 * Node 20's recursive mkdir spins forever), paths that are not plain folders, and names with control
 * characters (a newline in a name became a command in generated Slurm scripts) are refused before
 * anything is written, naming the path or the field.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkProjectFolder, ProjectFolderError } from '../../../src/engine/project/project-folder'
import { createProject, openOrCreateProject, PROJECT_FILE, ProjectError, readProject, writeProject } from '../../../src/engine/project/project-store'
import type { ProjectManifest } from '../../../src/shared/project'

const HOSTILE_NAME = 'lab study\ntouch pwned\n# '

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wb-folder-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Fails the test in 5 s instead of spinning forever as mkdir does under /proc. */
async function settled<T>(promise: Promise<T>): Promise<{ value?: T; error?: Error }> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s (mkdir spinning under a kernel folder?)')), 5000).unref())
  return Promise.race([promise, timeout]).then(
    (value) => ({ value }),
    (error: Error) => {
      if (/no answer within/.test(error.message)) throw error
      return { error }
    }
  )
}

describe('project folders', () => {
  it.skipIf(process.platform !== 'linux')('refuses /proc, /sys and /dev paths at once, naming the path, before any mkdir', async () => {
    for (const path of ['/proc/wb-project', '/proc/self/wb/project', '/sys/wb-project', '/dev/wb-project', '/dev/shm/wb-project']) {
      const { error } = await settled(createProject(path, 'study'))
      expect(error, path).toBeInstanceOf(ProjectFolderError)
      expect(error?.message).toContain(path)
      expect(error?.message).toMatch(/kernel/)
      expect(existsSync(path)).toBe(false)
    }
    // The CLI's path (sweep): open, or create when there is none.
    expect((await settled(openOrCreateProject('/proc/wb-sweep', 'p'))).error).toBeInstanceOf(ProjectFolderError)
  })

  it.skipIf(process.platform !== 'linux')('refuses a kernel folder reached through a symbolic link', async () => {
    await symlink('/proc/self', join(dir, 'innocent'))
    const { error } = await settled(createProject(join(dir, 'innocent', 'project'), 'study'))
    expect(error).toBeInstanceOf(ProjectFolderError)
    expect(error?.message).toMatch(/leads to \/proc\//)
  })

  it('refuses a path that is a file or lies under a file', async () => {
    const file = join(dir, 'notes.txt')
    await writeFile(file, 'notes')
    await expect(createProject(file, 'study')).rejects.toThrow(`${file}: is a file, not a plain folder`)
    await expect(createProject(join(file, 'sub', 'project'), 'study')).rejects.toThrow(`cannot be a project folder: ${file} is a file, not a plain folder`)
  })

  it.skipIf(process.platform === 'win32')('refuses a named pipe', async () => {
    expect(spawnSync('mkfifo', [join(dir, 'pipe')]).status).toBe(0)
    await expect(createProject(join(dir, 'pipe'), 'study')).rejects.toThrow(/is a named pipe, not a plain folder/)
  })

  it('creates a project in a new nested folder or an existing empty one', async () => {
    await createProject(join(dir, 'new', 'nested', 'project'), 'study')
    expect(existsSync(join(dir, 'new', 'nested', 'project', PROJECT_FILE))).toBe(true)
    await mkdir(join(dir, 'empty'))
    await createProject(join(dir, 'empty'), 'study')
    expect((await readProject(join(dir, 'empty'))).name).toBe('study')
    expect(await checkProjectFolder(join(dir, 'empty'))).toBe(join(dir, 'empty'))
  })
})

describe('names are one line of plain text', () => {
  it('createProject refuses a name with a line break (or any control character), naming it; nothing is written', async () => {
    const folder = join(dir, 'hostile')
    const error = await createProject(folder, HOSTILE_NAME).then(() => undefined, (e: unknown) => e as Error)
    expect(error).toBeInstanceOf(ProjectError)
    expect(error?.message).toContain('project name "lab study\\ntouch pwned\\n# " holds a line break (U+000A at position 10)')
    expect(existsSync(folder)).toBe(false)
    await expect(createProject(folder, 'bell\u0007')).rejects.toThrow(/control character \(U\+0007/)
    await expect(createProject(folder, 'tab\there')).rejects.toThrow(/a tab \(U\+0009/)
  })

  it('readProject refuses a project.json whose name or class names hold control characters, naming the field; the file is left as it is', async () => {
    const folder = join(dir, 'shared-by-a-colleague')
    await createProject(folder, 'study')
    const manifest = await readProject(folder)
    const file = join(folder, PROJECT_FILE)
    const hostile = JSON.stringify({ ...manifest, name: HOSTILE_NAME }, null, 2)
    await writeFile(file, hostile)
    await expect(readProject(folder)).rejects.toThrow(/project\.json: name "lab study\\ntouch pwned\\n# " holds a line break/)

    const experiment = { id: 'e1', name: 'A→B', dataset: 'demo', groups: { A: ['cat', 'dog\rx'] }, bases: [], transfers: [], config: {} }
    await writeFile(file, JSON.stringify({ ...manifest, experiments: [experiment] }))
    await expect(readProject(folder)).rejects.toThrow(/experiments\[0\]\.groups\.A\[1\] "dog\\rx" holds a control character \(U\+000D/)
    // No writer leaves such a manifest behind either (a CLI flag's group or class name, say).
    const before = await readFile(file, 'utf8')
    await expect(writeProject(folder, { ...manifest, experiments: [experiment] } as ProjectManifest)).rejects.toThrow(/experiments\[0\]\.groups\.A\[1\] "dog\\rx" holds a control character.*nothing was written/)
    expect(await readFile(file, 'utf8')).toBe(before)
    expect(await readdir(folder)).toEqual([PROJECT_FILE])
  })
})
