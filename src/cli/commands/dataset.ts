/**
 * `cli dataset download|import|list|remove`: the dataset library from a terminal. Results go to
 * stdout (`--json` for scripts), progress to stderr as a bar, so `--json > file` stays clean.
 * Ctrl-C cancels a download and keeps its partial file; running the same command again resumes it.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { LibraryDataset } from '../../shared/library'
import { resolveDataDir } from '../../engine/datasets-library/data-dir'
import { downloadDataset } from '../../engine/datasets-library/download-dataset'
import { importDataset } from '../../engine/datasets-library/import-dataset'
import { LibraryError } from '../../engine/datasets-library/library-error'
import { listLibrary } from '../../engine/datasets-library/library-listing'
import type { LibraryProgress } from '../../engine/datasets-library/library-progress'
import { removeDataset } from '../../engine/datasets-library/remove-dataset'
import { UsageError } from '../args'
import { formatBar, formatDuration } from '../format'

export const DATASET_USAGE = [
  'usage: cli dataset download cifar10|cifar100 [--url URL --md5 HASH] [--data-dir DIR] [--json]',
  // Continuation lines as the other multi-line usages have them (the help lists them indented alike).
  '  dataset import PATH [--name NAME] [--data-dir DIR] [--json]',
  '  dataset list [--data-dir DIR] [--json]',
  '  dataset remove NAME [--delete-files] [--data-dir DIR] [--json]'
].join('\n')

/** Exit code after Ctrl-C, as shells report a SIGINT death. */
const EXIT_CANCELLED = 130

/** Runs one `dataset` subcommand; returns the exit code. */
export async function runDatasetCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      md5: { type: 'string' },
      name: { type: 'string' },
      'data-dir': { type: 'string' },
      'delete-files': { type: 'boolean' },
      json: { type: 'boolean' }
    }
  })
  const [sub, ...args] = positionals
  const dataDir = resolveDataDir(values['data-dir'])
  const json = values.json === true
  const only = (allowed: string[], count: number, what: string): void => {
    const extra = Object.keys(values).filter((k) => !['data-dir', 'json', ...allowed].includes(k))
    if (extra.length) throw new UsageError(`dataset ${sub}: --${extra[0]} does not apply here`)
    if (args.length !== count) throw new UsageError(`dataset ${sub}: ${count ? `expected ${what}` : 'takes no arguments'}${args.length > count ? `, got '${args.slice(count).join(' ')}'` : ''}`)
  }
  try {
    switch (sub) {
      case 'download': {
        only(['url', 'md5'], 1, 'cifar10 or cifar100')
        if (args[0] !== 'cifar10' && args[0] !== 'cifar100') throw new UsageError(`dataset download: '${args[0]}' is not downloadable; use cifar10 or cifar100`)
        const result = await withCancel((signal, onProgress) =>
          downloadDataset({ dataset: args[0] as 'cifar10' | 'cifar100', dataDir, url: values.url === undefined ? undefined : toUrl(values.url), md5: values.md5, signal, onProgress })
        )
        if (json) print(result)
        else process.stdout.write(`${result.alreadyPresent ? 'already in the library: ' : ''}${describe(result.dataset)}\n`)
        return 0
      }
      case 'import': {
        only(['name'], 1, 'a PATH (an archive, a CIFAR folder or an image folder)')
        const dataset = await withCancel((signal, onProgress) => importDataset({ path: args[0], name: values.name, dataDir, signal, onProgress }))
        if (json) print({ dataset })
        else process.stdout.write(`${describe(dataset)}\n${unreadableNote(dataset)}`)
        return 0
      }
      case 'list': {
        only([], 0, '')
        const listing = await listLibrary(dataDir)
        if (json) print(listing)
        else process.stdout.write(`data folder: ${listing.dataDir}\n${listing.datasets.length ? listing.datasets.map(describe).join('\n') : '(no datasets yet: dataset download cifar10, or dataset import PATH)'}\n`)
        return 0
      }
      case 'remove': {
        only(['delete-files'], 1, 'a dataset NAME')
        const deleteFiles = values['delete-files'] === true
        const removed = await removeDataset({ dataDir, name: args[0], deleteFiles })
        if (json) print({ removed, deletedFiles: deleteFiles })
        else process.stdout.write(`removed ${removed.name} from the library${deleteFiles ? ` and deleted ${removed.location}` : ` (its files stay at ${removed.location})`}\n`)
        return 0
      }
      default:
        throw new UsageError(sub === undefined ? 'dataset: expected download, import, list or remove' : `dataset: unknown subcommand '${sub}'`)
    }
  } catch (error) {
    if (!(error instanceof LibraryError)) throw error
    return reportFailure(error, json)
  }
}

/**
 * Runs long work with a progress bar on stderr and Ctrl-C wired to an AbortSignal. A second Ctrl-C
 * is left to Node's default (exit at once), for when the first one seems not to work.
 */
async function withCancel<T>(work: (signal: AbortSignal, onProgress: (p: LibraryProgress) => void) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const onSigint = (): void => {
    process.stderr.write('\ncancelling…\n')
    controller.abort()
  }
  process.once('SIGINT', onSigint)
  const bar = createLibraryProgressBar(process.stderr)
  try {
    return await work(controller.signal, bar.update)
  } finally {
    bar.end()
    process.off('SIGINT', onSigint)
  }
}

/** A library failure: `error:` and what to do instead on stderr; with --json also an error object on stdout. */
function reportFailure(error: LibraryError, json: boolean): number {
  if (json) print({ error: { reason: error.reason, subject: error.subject, message: error.message, manual: error.manual ?? null } })
  process.stderr.write(`error: ${error.message}\n${error.manual ? `instead: ${error.manual}\n` : ''}`)
  return error.reason === 'cancelled' ? EXIT_CANCELLED : 1
}

/** `--url` takes a URL, or a path to a local copy of the archive (made a file: URL). */
function toUrl(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : pathToFileURL(resolve(value)).href
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** One dataset as a few lines of text. */
function describe(d: LibraryDataset): string {
  const size = d.imageSize ? `${d.imageSize.width}×${d.imageSize.height}` : 'mixed sizes'
  const counts = `${d.counts.train.toLocaleString('en-US')} train + ${d.counts.test.toLocaleString('en-US')} test images`
  return (
    `${d.name}: ${d.title}, ${d.classes.length} classes, ${counts}, ${size}, ${formatBytes(d.bytesOnDisk)}${d.available ? '' : ' (MISSING)'}\n` +
    `  at ${d.location}\n  dataset id${d.datasetIds.length > 1 ? 's' : ''}: ${d.datasetIds.join(', ')}`
  )
}

function unreadableNote(d: LibraryDataset): string {
  if (d.unreadableCount === 0) return ''
  const listed = d.unreadable.slice(0, 10).map((u) => `  ${u.file}: ${u.reason}\n`).join('')
  const more = d.unreadableCount > 10 ? `  … and ${d.unreadableCount - 10} more (--json lists up to ${d.unreadable.length})\n` : ''
  return `${d.unreadableCount} unreadable file${d.unreadableCount === 1 ? '' : 's'} (not counted above):\n${listed}${more}`
}

/** Bytes in binary units, as file managers show sizes. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

/** One progress line: step, bar, amounts, and for downloads rate and time left. */
export function formatLibraryProgress(p: LibraryProgress): string {
  const amount = (n: number): string => (p.unit === 'bytes' ? formatBytes(n) : n.toLocaleString('en-US'))
  const of = p.total === null ? amount(p.done) : `${amount(p.done)} / ${amount(p.total)}${p.unit === 'files' ? ' files' : ''}`
  const bar = p.total ? `${formatBar(p.done / p.total)} ` : ''
  const rate = p.bytesPerSecond === null ? '' : `  ${formatBytes(p.bytesPerSecond)}/s`
  const eta = p.etaSeconds === null ? '' : `  ETA ${formatDuration(p.etaSeconds)}`
  return `${p.state.padEnd(11)} ${bar}${of}${rate}${eta}`
}

/**
 * Progress on `stream`: each step's message on a line of its own, then its figures as a bar, redrawn
 * in place (10 a second at most) on a terminal; on a file or pipe, the figures every few seconds and
 * at the end of each step, so logs stay short and still show how each step ended.
 */
export function createLibraryProgressBar(stream: NodeJS.WriteStream): { update: (p: LibraryProgress) => void; end: () => void } {
  const live = stream.isTTY === true
  let lastDraw = 0
  let last: LibraryProgress | undefined
  /** Whether `last`'s figures are what the screen or log shows. */
  let lastShown = true
  /** A live bar is on the current line (no newline after it yet). */
  let barOpen = false
  const show = (p: LibraryProgress): void => {
    if (live) {
      stream.write(`\r\x1b[2K${formatLibraryProgress(p)}`)
      barOpen = true
    } else stream.write(`${formatLibraryProgress(p)}\n`)
    lastShown = true
  }
  const hasFigures = (p: LibraryProgress): boolean => p.done > 0 || p.total !== null
  /** Shows the step's latest figures if they were not shown, and ends the bar's line. */
  const closeStep = (): void => {
    if (last && !lastShown && hasFigures(last)) show(last)
    if (barOpen) stream.write('\n')
    barOpen = false
  }
  return {
    update(p) {
      const now = Date.now()
      const newStep = p.state !== last?.state || p.message !== last?.message
      if (newStep) {
        closeStep()
        stream.write(`${p.message}\n`)
      }
      last = p
      lastShown = false
      if (!newStep && now - lastDraw < (live ? 100 : 5000)) return
      lastDraw = now
      if (hasFigures(p)) show(p)
    },
    end: closeStep
  }
}
