import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** A sibling temp path: same folder, so the final rename never crosses file systems. */
function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/**
 * Writes a file atomically: temp file, fsync, rename. A reader sees the old file or the new one,
 * never half of either, even if the process dies mid-write.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temp = tempSibling(path)
  try {
    const handle = await open(temp, 'w')
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

/**
 * Replaces a whole folder atomically enough for checkpoints: fill a temp sibling folder, then swap
 * it in with renames. If the process dies between the renames, the old copy survives as `<dir>.old`.
 */
export async function replaceDirAtomic(dir: string, fill: (tempDir: string) => Promise<void>): Promise<void> {
  const temp = tempSibling(dir)
  await mkdir(temp, { recursive: true })
  try {
    await fill(temp)
  } catch (error) {
    await rm(temp, { recursive: true, force: true })
    throw error
  }
  const old = `${dir}.old`
  await rm(old, { recursive: true, force: true })
  await rename(dir, old).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
  })
  await rename(temp, dir)
  await rm(old, { recursive: true, force: true })
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`)
}

/** Plain (non-atomic) write for files inside a folder that replaceDirAtomic will swap in. */
export async function writeInto(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  await writeFile(join(dir, name), data)
}
