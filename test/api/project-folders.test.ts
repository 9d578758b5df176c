/**
 * Project folders through the contract: Save As never overwrites anything in its target (only a new
 * or empty folder will do), kernel folders are refused at once, and names with control characters are
 * refused by the request schemas, naming the field.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WorkbenchServer } from '../../src/engine/api/create-workbench-server'
import type { WorkbenchClient } from '../../src/shared/rpc-client'
import { connectInMemory, createTestServer } from './workbench-harness'

let server: WorkbenchServer
let client: WorkbenchClient
let dir: string

beforeAll(async () => {
  ;({ server, dir } = await createTestServer())
  client = connectInMemory(server)
})

afterAll(async () => {
  client.close()
  await server.shutdown()
})

describe('Save As', () => {
  it('refuses a target folder that is not empty, leaving every file there as it was', async () => {
    const source = join(dir, 'source')
    await client.api.createProject({ dir: source, name: 'Source' })
    await writeFile(join(source, 'README.txt'), 'the project’s notes')
    const target = join(dir, 'colleague')
    await mkdir(target)
    await writeFile(join(target, 'README.txt'), 'someone else’s notes')
    await expect(client.api.saveProjectAs({ dir: target })).rejects.toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/colleague is not empty \(it holds README\.txt\); Save As copies into a new or empty folder only/) })
    expect(await readFile(join(target, 'README.txt'), 'utf8')).toBe('someone else’s notes')
    expect(existsSync(join(target, 'project.json'))).toBe(false)
    // The source is still the open project.
    expect((await client.api.getProject())?.dir).toBe(source)
  })

  it('copies into a new folder or an empty one', async () => {
    const empty = join(dir, 'empty-target')
    await mkdir(empty)
    const copy = await client.api.saveProjectAs({ dir: empty })
    expect(copy.dir).toBe(empty)
    expect(await readFile(join(empty, 'README.txt'), 'utf8')).toBe('the project’s notes')
    const fresh = join(dir, 'new', 'target')
    expect((await client.api.saveProjectAs({ dir: fresh })).manifest.name).toBe('Source')
  })
})

describe('creating projects', () => {
  it.skipIf(process.platform !== 'linux')('refuses a folder under /proc at once (no spinning mkdir)', async () => {
    const answer = client.api.createProject({ dir: '/proc/wb-api-project' }).then(
      () => 'created',
      (e: { code?: string; message?: string }) => e
    )
    const timeout = new Promise((resolve) => setTimeout(() => resolve('no answer within 5 s'), 5000).unref())
    expect(await Promise.race([answer, timeout])).toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/\/proc\/wb-api-project: is inside \/proc/) })
  })

  it('refuses a name with a line break, naming the field', async () => {
    const folder = join(dir, 'hostile')
    await expect(client.api.createProject({ dir: folder, name: 'lab study\ntouch pwned\n# ' })).rejects.toMatchObject({
      code: 'invalid-request',
      message: expect.stringMatching(/^name: "lab study\\ntouch pwned\\n# " holds a line break/)
    })
    expect(existsSync(folder)).toBe(false)
  })
})
