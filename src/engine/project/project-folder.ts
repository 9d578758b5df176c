/**
 * Checks a folder before a project is created, opened or copied into it. Kernel file systems are no
 * place for a project, and some never answer: Node 20's recursive mkdir under /proc loops forever at
 * 100 % CPU (it keeps seeing ENOENT for a parent that exists), so the check runs before any mkdir.
 */
import { realpath, stat, statfs } from 'node:fs/promises'
import { dirname, resolve, sep } from 'node:path'
import { escapeControlCharacters } from '../../shared/plain-text'

/** Folders of the kernel's pseudo file systems and device nodes (Linux; harmless elsewhere). */
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev']

/**
 * Magic numbers (statfs `type`) of pseudo file systems, for one mounted somewhere else (a container's
 * `/host/proc`): proc, sysfs, debugfs, tracefs, securityfs, cgroup, cgroup2, configfs, bpf, pstore, devpts.
 */
const PSEUDO_FILE_SYSTEMS = new Set([0x9fa0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0x27e0eb, 0x63677270, 0x62656570, 0xcafe4a11, 0x6165676c, 0x1cd1])

/** A folder that cannot hold a project: names the path and why. */
export class ProjectFolderError extends Error {
  constructor(readonly path: string, problem: string) {
    super(`${escapeControlCharacters(path)}: ${problem}`)
    this.name = 'ProjectFolderError'
  }
}

function insideSystemRoot(path: string): string | undefined {
  return SYSTEM_ROOTS.find((root) => path === root || path.startsWith(root + sep))
}

/** The deepest part of `path` that exists (the path itself when it does), with what stat says of it. */
async function deepestExisting(path: string): Promise<{ path: string; info: Awaited<ReturnType<typeof stat>> }> {
  for (let current = path; ; current = dirname(current)) {
    try {
      return { path: current, info: await stat(current) }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // ENOTDIR: a file where a folder should be; say so below, at that file.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new ProjectFolderError(current, `cannot be read (${(error as Error).message})`)
      if (dirname(current) === current) throw new ProjectFolderError(path, 'no part of this path exists')
    }
  }
}

/**
 * Refuses, before anything is written, a project folder under /proc, /sys or /dev (also through a
 * symbolic link, or a pseudo file system mounted elsewhere), a path that exists but is not a folder,
 * and one whose nearest existing parent is not a folder. A folder that does not exist yet is fine:
 * the caller creates it.
 * @returns the folder as an absolute path
 * @throws ProjectFolderError naming the path and the problem
 */
export async function checkProjectFolder(dir: string): Promise<string> {
  const abs = resolve(dir)
  const system = insideSystemRoot(abs)
  if (system) throw new ProjectFolderError(abs, `is inside ${system}, a folder of the operating system's kernel, not a place for a project; choose a folder in your home or data area`)
  const existing = await deepestExisting(abs)
  if (!existing.info.isDirectory()) {
    const kind = existing.info.isFile() ? 'a file' : existing.info.isFIFO() ? 'a named pipe' : existing.info.isSocket() ? 'a socket' : existing.info.isCharacterDevice() || existing.info.isBlockDevice() ? 'a device' : 'not a folder'
    const where = existing.path === abs ? 'is' : `cannot be a project folder: ${escapeControlCharacters(existing.path)} is`
    throw new ProjectFolderError(abs, `${where} ${kind}, not a plain folder`)
  }
  const real = await realpath(existing.path).catch(() => existing.path)
  const linked = insideSystemRoot(real)
  if (linked) throw new ProjectFolderError(abs, `leads to ${escapeControlCharacters(real)} (inside ${linked}), a folder of the operating system's kernel, not a place for a project`)
  const fsType = await statfs(existing.path).then((s) => s.type, () => undefined)
  if (fsType !== undefined && PSEUDO_FILE_SYSTEMS.has(fsType)) {
    throw new ProjectFolderError(abs, `is on a kernel pseudo file system (type 0x${fsType.toString(16)}), not a place for a project`)
  }
  return abs
}
