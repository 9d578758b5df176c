import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
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
 * Flushes a folder's entries (new names, renames) to disk. Where a folder cannot be opened for that
 * (Windows), the rename is as durable as the platform makes it: nothing to do.
 */
async function syncDir(dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // EISDIR/EPERM on platforms without directory fsync.
  } finally {
    await handle?.close()
  }
}

/** Flushes a written file's bytes to disk (before the folder holding it is renamed into place). */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Replaces a whole folder atomically enough for checkpoints: fill a temp sibling folder (its files
 * written with {@link writeInto}, which syncs them), sync it, then swap it in with renames and sync the
 * parent — so after a crash or power loss the folder is the old one or the complete new one, never new
 * names over unwritten bytes. If the process dies between the renames, the old copy survives as `<dir>.old`.
 */
export async function replaceDirAtomic(dir: string, fill: (tempDir: string) => Promise<void>): Promise<void> {
  const temp = tempSibling(dir)
  await mkdir(temp, { recursive: true })
  try {
    await fill(temp)
    await syncDir(temp)
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
  await syncDir(dirname(dir))
  await rm(old, { recursive: true, force: true })
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`)
}

/** Writes and syncs a file inside a folder that replaceDirAtomic will swap in (atomic as part of that folder). */
export async function writeInto(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(join(dir, name), 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}
