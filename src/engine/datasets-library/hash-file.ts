/** MD5 of a file, streamed, with progress and cancellation (an official CIFAR archive is 170 MB). */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { LibraryError } from './library-error'

/** 1 MiB reads: few syscalls, little memory. */
const READ_BYTES = 1 << 20

/**
 * The MD5 of a file as 32 lowercase hex digits.
 * @param onProgress called with bytes hashed so far and the file's size
 * @throws LibraryError 'cancelled' when the signal fires
 */
export async function md5File(path: string, options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<string> {
  const total = (await stat(path)).size
  const hash = createHash('md5')
  let done = 0
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_BYTES, signal: options.signal })) {
      hash.update(chunk as Buffer)
      done += (chunk as Buffer).length
      options.onProgress?.(done, total)
    }
  } catch (error) {
    if (options.signal?.aborted) throw new LibraryError('cancelled', path, 'cancelled while checking the MD5')
    throw error
  }
  return hash.digest('hex')
}

/** Whether a string is an MD5 in hex (either case). */
export function isMd5(value: string): boolean {
  return /^[0-9a-f]{32}$/i.test(value)
}
