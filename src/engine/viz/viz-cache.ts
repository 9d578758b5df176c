import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { writeFileAtomic, writeJsonAtomic } from '../project/atomic-files'
import { META_FILE, WEIGHTS_FILE } from '../models/checkpoint'

/** Bumped when a cached file's layout changes, so old files are recomputed rather than misread. */
export const VIZ_CACHE_VERSION = 1

/** Where a run's viz results are cached: `<project>/cache/viz/<runId>/` (safe to delete, like all of cache/). */
export function vizCacheDir(projectDir: string, runId: string): string {
  return join(resolve(projectDir), 'cache', 'viz', runId)
}

/**
 * A short content hash of a checkpoint's weights and metadata: a cache entry made for these weights is
 * found again, and one made before the checkpoint was rewritten (training continued) is not.
 * The weights are streamed, so even a full-width VGG's 500 MB never sits in memory twice.
 */
export async function checkpointFingerprint(checkpointDir: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(join(checkpointDir, WEIGHTS_FILE))) hash.update(chunk as Buffer)
  hash.update(await readFile(join(checkpointDir, META_FILE)))
  return hash.digest('hex').slice(0, 16)
}

/** Reads a cached JSON file with its binary sidecar; undefined when either is missing or unreadable. */
export async function readCached<T extends { version: number }>(base: string): Promise<{ json: T; bin: Uint8Array } | undefined> {
  try {
    const { binHash, ...json } = JSON.parse(await readFile(`${base}.json`, 'utf8')) as T & { binHash?: string }
    if (json.version !== VIZ_CACHE_VERSION) return undefined
    const bin = await readFile(`${base}.bin`)
    // A sidecar from another write (a crash between the two renames) does not belong to this JSON.
    if (binHash !== hashBytes(bin)) return undefined
    return { json: json as unknown as T, bin: new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength) }
  } catch {
    return undefined
  }
}

/** Writes a cache entry: the sidecar, then the JSON naming the sidecar's hash, each atomically. */
export async function writeCached(base: string, json: { version: number }, bin: Uint8Array): Promise<void> {
  await writeFileAtomic(`${base}.bin`, bin)
  await writeJsonAtomic(`${base}.json`, { ...json, binHash: hashBytes(bin) })
}

function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16)
}
