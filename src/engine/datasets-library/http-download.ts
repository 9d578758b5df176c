/**
 * Streams a URL to a `.part` file with progress, resuming by HTTP Range: after a broken connection
 * within one call (a few retries with back-off) and across calls (the partial file and a small notes
 * file with the URL, validator and length stay on disk). Cancellable with an AbortSignal; a
 * cancelled or interrupted download keeps its partial file so the next attempt resumes it.
 */
import { mkdir, open, readFile, rm, stat, truncate } from 'node:fs/promises'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { writeJsonAtomic } from '../project/atomic-files'
import { LibraryError, throwIfCancelled } from './library-error'
import { createRateMeter } from './transfer-rate'

/** Progress of a download. */
export interface DownloadProgress {
  /** Bytes of the file on disk so far, resumed bytes included. */
  receivedBytes: number
  /** The file's length; null while unknown (no response yet, or a server that sends none). */
  totalBytes: number | null
  /** Rate over the last few seconds; null until measurable. */
  bytesPerSecond: number | null
  etaSeconds: number | null
  /** Bytes that were already on disk when this call started. */
  resumedFromBytes: number
}

export interface DownloadFileOptions {
  url: string
  /** Where the bytes go; a `<partPath>.json` beside it remembers what they are for resuming. */
  partPath: string
  /** The length the file must have (rejected early when the server offers another). */
  expectedBytes?: number
  signal?: AbortSignal
  onProgress?: (progress: DownloadProgress) => void
  /** Extra attempts after a transfer breaks off, each resuming where the last stopped. Default 3. */
  retries?: number
  /** Wait before the first retry, doubled for each further one (ms). Default 1000. */
  retryDelayMs?: number
  /** An attempt that receives no byte for this long is dropped and retried (ms). Default 60,000. */
  stallTimeoutMs?: number
  /** Least time between two progress calls (ms); the last one always comes. Default 100. */
  progressIntervalMs?: number
  /** Attached to 'offline' and 'http' errors: what the user can do instead. */
  manual?: string
  /** Injectable for tests; the global fetch otherwise. */
  fetch?: typeof fetch
}

export interface DownloadFileResult {
  bytes: number
  resumedFromBytes: number
  /** Requests made (1 when nothing went wrong). */
  attempts: number
}

/** What the notes file beside a partial download records. */
interface ResumeNotes {
  url: string
  /** A strong ETag or Last-Modified, sent as If-Range so a changed file restarts instead of splicing. */
  validator: string | null
  totalBytes: number | null
}

/** A failure worth another attempt (connection broke, stalled, server hiccup). */
class TransientError extends Error {
  constructor(
    message: string,
    /** False when no connection was made at all (the host cannot be reached). */
    readonly reached: boolean,
    /** True when the server answered with an error status (5xx) rather than the connection failing. */
    readonly serverError = false
  ) {
    super(message)
  }
}

/**
 * Downloads `url` into `partPath` (resuming what is there when its notes say it is the same URL).
 * @throws LibraryError 'offline' (never reached the server), 'http' (an answer that is not the file),
 * 'interrupted' (broke off after every retry; the partial file is kept), 'cancelled' (partial kept)
 */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadFileResult> {
  const { url, partPath, signal } = options
  const doFetch = options.fetch ?? fetch
  const retries = options.retries ?? 3
  const notesPath = `${partPath}.json`
  await mkdir(dirname(partPath), { recursive: true })

  let notes = await readNotes(notesPath)
  if (notes === undefined || notes.url !== url) {
    // Bytes from another URL (or of unknown origin) must never be spliced with these.
    await rm(partPath, { force: true })
    notes = { url, validator: null, totalBytes: null }
  }
  // Shared with each attempt, which updates it as answers and bytes arrive (also when it then fails).
  const state: TransferState = { notes, offset: await sizeOf(partPath), sessionBytes: 0 }
  const resumedFromBytes = state.offset
  const meter = createRateMeter()
  const progress = createTrailingReporter(options.progressIntervalMs ?? 100, () => {
    meter.update(state.sessionBytes)
    const total = state.notes.totalBytes
    options.onProgress?.({
      receivedBytes: state.offset,
      totalBytes: total,
      bytesPerSecond: meter.bytesPerSecond(),
      etaSeconds: meter.etaSeconds(total === null ? null : total - state.offset),
      resumedFromBytes
    })
  })

  let attempts = 0
  let delay = options.retryDelayMs ?? 1000
  let reachedOnce = false
  try {
    for (;;) {
      throwIfCancelled(signal, url)
      const total = state.notes.totalBytes
      if (total !== null && state.offset === total) break
      if (total !== null && state.offset > total) {
        await truncate(partPath, 0)
        state.offset = 0
      }
      attempts++
      try {
        await transferOnce({ ...options, fetch: doFetch, notesPath }, state, progress.report)
        break
      } catch (error) {
        if (signal?.aborted) throw new LibraryError('cancelled', url, `cancelled after ${state.offset} bytes; the partial file ${partPath} is kept and the next download resumes it`)
        if (!(error instanceof TransientError)) throw error
        reachedOnce ||= error.reached
        state.offset = await sizeOf(partPath)
        // A host never reached is reported at once: retrying an absent network only delays the message.
        if (!reachedOnce) throw new LibraryError('offline', url, `cannot reach the server (${error.message}); check the network connection`, options.manual)
        if (attempts > retries && error.serverError) {
          throw new LibraryError('http', url, `${error.message} (${attempts} tries)`, options.manual)
        }
        if (attempts > retries) {
          throw new LibraryError(
            'interrupted',
            url,
            `transfer broke off after ${state.offset} of ${state.notes.totalBytes ?? '?'} bytes (${error.message}); ` +
              `the partial file ${partPath} is kept: run the download again to resume it`,
            options.manual
          )
        }
        meter.reset()
        try {
          await sleep(delay, undefined, { signal })
        } catch {
          throw new LibraryError('cancelled', url, `cancelled after ${state.offset} bytes; the partial file ${partPath} is kept and the next download resumes it`)
        }
        delay *= 2
      }
    }
    progress.flush()
    return { bytes: state.offset, resumedFromBytes, attempts }
  } finally {
    progress.stop()
  }
}

/** What a download knows between attempts. */
interface TransferState {
  notes: ResumeNotes
  /** Bytes in the partial file. */
  offset: number
  /** Bytes received by this call (for the rate). */
  sessionBytes: number
}

/**
 * Calls `emit` at most once per interval; a call inside the interval is delivered when it ends
 * (trailing edge), so the latest figures show even when the transfer stalls right after them.
 */
function createTrailingReporter(intervalMs: number, emit: () => void): { report: () => void; flush: () => void; stop: () => void } {
  let last = -Infinity
  let timer: ReturnType<typeof setTimeout> | undefined
  const flush = (): void => {
    clearTimeout(timer)
    timer = undefined
    last = performance.now()
    emit()
  }
  return {
    report() {
      const wait = last + intervalMs - performance.now()
      if (wait <= 0) flush()
      else timer ??= setTimeout(flush, wait)
    },
    flush,
    stop: () => clearTimeout(timer)
  }
}

/** Deletes a partial download and its notes. */
export async function discardPartial(partPath: string): Promise<void> {
  await rm(partPath, { force: true })
  await rm(`${partPath}.json`, { force: true })
}

interface AttemptInput extends DownloadFileOptions {
  fetch: typeof fetch
  notesPath: string
}

/**
 * One request: asks for the rest of the file (or all of it), checks the answer, appends the body,
 * keeping `state` current as it goes. Returns when the file is complete.
 * @throws TransientError when worth retrying, LibraryError when not
 */
async function transferOnce(input: AttemptInput, state: TransferState, onBytes: () => void): Promise<void> {
  const { url, partPath, signal } = input
  const stallMs = input.stallTimeoutMs ?? 60_000
  const controller = new AbortController()
  const forwardAbort = (): void => controller.abort()
  signal?.addEventListener('abort', forwardAbort, { once: true })
  let stalled = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const armStallTimer = (): void => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      stalled = true
      controller.abort()
    }, stallMs)
  }
  // identity: a server that gzips on the fly would make lengths and ranges refer to other bytes.
  const headers: Record<string, string> = { 'accept-encoding': 'identity' }
  if (state.offset > 0) {
    headers['range'] = `bytes=${state.offset}-`
    if (state.notes.validator) headers['if-range'] = state.notes.validator
  }
  try {
    armStallTimer()
    let response: Response
    try {
      response = await input.fetch(url, { headers, signal: controller.signal, redirect: 'follow' })
    } catch (error) {
      throw new TransientError(describeNetworkError(error, stalled, stallMs), false)
    }
    const start = await acceptResponse(response, input, state.offset)
    if (start === 'complete') {
      state.notes = { ...state.notes, totalBytes: state.offset }
      return
    }
    // from 0 with bytes on disk: the server sent the whole file (no range support, or If-Range saw a change).
    state.offset = start.from
    state.notes = { url, validator: validatorOf(response) ?? null, totalBytes: start.total }
    await writeJsonAtomic(input.notesPath, state.notes)
    const handle = await open(partPath, start.from === 0 ? 'w' : 'a')
    try {
      onBytes()
      // Node's web streams are async iterable (the DOM typings, when loaded, do not say so).
      for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
        await handle.write(chunk)
        state.offset += chunk.length
        state.sessionBytes += chunk.length
        armStallTimer()
        onBytes()
      }
    } catch (error) {
      throw new TransientError(describeNetworkError(error, stalled, stallMs), true)
    } finally {
      await handle.close()
    }
    const total = state.notes.totalBytes
    if (total !== null && state.offset < total) throw new TransientError(`the server closed the connection at byte ${state.offset}`, true)
    if (total !== null && state.offset > total) {
      throw new LibraryError('http', url, `the server sent ${state.offset} bytes, more than the ${total} it announced`)
    }
    state.notes = { ...state.notes, totalBytes: state.offset }
    await writeJsonAtomic(input.notesPath, state.notes)
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', forwardAbort)
  }
}

/**
 * Checks a response's status and lengths.
 * @returns where the body starts in the file and the file's total length, or 'complete' when the
 * server says the range starts at the end (the partial file is already whole)
 */
async function acceptResponse(response: Response, input: AttemptInput, offset: number): Promise<{ from: number; total: number | null } | 'complete'> {
  const { url } = input
  const status = response.status
  let result: { from: number; total: number | null }
  if (status === 200) {
    result = { from: 0, total: parseLength(response.headers.get('content-length')) }
  } else if (status === 206) {
    const range = parseContentRange(response.headers.get('content-range'))
    if (range === undefined || range.start !== offset) {
      await response.body?.cancel()
      // Splicing a range from elsewhere would corrupt the file: start over from byte 0.
      await truncate(input.partPath, 0)
      throw new TransientError(`the server answered a request for bytes from ${offset} with ${response.headers.get('content-range') ?? 'no Content-Range'}`, true)
    }
    result = { from: range.start, total: range.total }
  } else if (status === 416 && offset > 0) {
    await response.body?.cancel()
    const range = parseContentRange(response.headers.get('content-range'))
    if (range?.total === offset && (input.expectedBytes === undefined || input.expectedBytes === offset)) return 'complete'
    await truncate(input.partPath, 0)
    throw new TransientError(`the server cannot serve bytes from ${offset}; starting over`, true)
  } else {
    await response.body?.cancel()
    const problem = `the server answered HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`
    if (status >= 500) throw new TransientError(problem, true, true)
    throw new LibraryError('http', url, `${problem} instead of the file`, input.manual)
  }
  if (input.expectedBytes !== undefined && result.total !== null && result.total !== input.expectedBytes) {
    await response.body?.cancel()
    throw new LibraryError('http', url, `the server offers ${result.total} bytes, but the file should be ${input.expectedBytes} bytes (a different file?)`, input.manual)
  }
  return result
}

/** A strong ETag or else Last-Modified: what If-Range accepts (weak ETags are not allowed there). */
function validatorOf(response: Response): string | undefined {
  const etag = response.headers.get('etag')
  if (etag && !etag.startsWith('W/')) return etag
  return response.headers.get('last-modified') ?? undefined
}

function parseLength(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null
  return Number(value)
}

/** Parses Content-Range: "bytes 100-199/1000" gives start 100, total 1000; a "*" total gives null; an unsatisfied range ("bytes *" then "/1000") gives start -1. */
function parseContentRange(value: string | null): { start: number; total: number | null } | undefined {
  const m = value?.trim().match(/^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i)
  if (!m) return undefined
  return { start: m[1] === undefined ? -1 : Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) }
}

/** fetch wraps socket errors as "fetch failed" / "terminated" with the real one in `cause`. */
function describeNetworkError(error: unknown, stalled: boolean, stallMs: number): string {
  if (stalled) return `no data for ${Math.round(stallMs / 1000)} s`
  const parts: string[] = []
  for (let e = error as { message?: string; code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code) parts.push(e.code)
    else if (e.message && !/^(fetch failed|terminated)$/.test(e.message)) parts.push(e.message)
  }
  return parts.length ? [...new Set(parts)].join(': ') : String((error as Error)?.message ?? error)
}

async function readNotes(path: string): Promise<ResumeNotes | undefined> {
  try {
    const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<ResumeNotes>
    if (typeof raw.url !== 'string') return undefined
    return {
      url: raw.url,
      validator: typeof raw.validator === 'string' ? raw.validator : null,
      totalBytes: typeof raw.totalBytes === 'number' && Number.isSafeInteger(raw.totalBytes) ? raw.totalBytes : null
    }
  } catch {
    // Missing or unreadable notes: the partial file's origin is unknown, so it is not resumed.
    return undefined
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}
