/** Small file-system helpers shared by the dataset readers, so every reader words errors alike. */

import { stat } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { DatasetError } from './dataset'

/** True for a "no such file or directory" error. */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}

/** stat, or undefined when the path does not exist (other errors propagate). */
export async function statIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path)
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** @throws DatasetError naming `dir` when it is missing or not a folder */
export async function requireFolder(dir: string): Promise<void> {
  const info = await statIfExists(dir)
  if (info === undefined) throw new DatasetError(dir, 'folder not found')
  if (!info.isDirectory()) throw new DatasetError(dir, 'not a folder')
}
