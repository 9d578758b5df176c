import { statSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * The project folder the OS asked us to open, from a command line (`workbench /path/to/project`,
 * or the second instance's argv): the last argument that is an existing folder and not a flag.
 */
export function findProjectPathInArgv(argv: readonly string[], cwd: string): string | undefined {
  for (const arg of [...argv].reverse()) {
    if (!arg || arg.startsWith('-')) continue
    const path = resolve(cwd, arg)
    try {
      if (statSync(path).isDirectory()) return path
    } catch {
      // Not a path.
    }
  }
  return undefined
}
