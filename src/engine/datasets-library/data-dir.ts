/**
 * Where the dataset library lives: downloads, extracted datasets and the index `library.json`.
 * One rule for the app, `serve` and the CLI, so a dataset downloaded from a terminal shows up in the app.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { ENV } from '../env'

/** The environment variable that overrides the default data folder (the CLI's `--data-dir` wins over it). */
export const DATA_DIR_ENV = ENV.dataDir

/**
 * The platform's per-user data folder for the workbench's datasets:
 * Linux `$XDG_DATA_HOME/transfer-workbench/datasets` (default `~/.local/share/…`),
 * macOS `~/Library/Application Support/Transfer Workbench/datasets`,
 * Windows `%LOCALAPPDATA%\Transfer Workbench\datasets`.
 * Data, not configuration: 300 MB of CIFAR does not belong in a config folder that people back up.
 */
export function platformDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (platform === 'win32') return join(env['LOCALAPPDATA'] || join(home, 'AppData', 'Local'), 'Transfer Workbench', 'datasets')
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Transfer Workbench', 'datasets')
  return join(env['XDG_DATA_HOME'] || join(home, '.local', 'share'), 'transfer-workbench', 'datasets')
}

/**
 * The data folder to use, absolute: the explicit choice (a `--data-dir` flag or the app's setting) if
 * given, else `$WORKBENCH_DATA_DIR`, else the platform default.
 */
export function resolveDataDir(explicit?: string | null, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit)
  const fromEnv = env[DATA_DIR_ENV]
  if (fromEnv) return resolve(fromEnv)
  return platformDataDir(env)
}

/** The library's index file in a data folder. */
export function libraryIndexPath(dataDir: string): string {
  return join(dataDir, 'library.json')
}

/** Partial and finished downloads (`*.part` plus their resume notes) live here, apart from datasets. */
export function downloadsDir(dataDir: string): string {
  return join(dataDir, 'downloads')
}
