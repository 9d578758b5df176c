/** Words and checks for the dataset library panel and its download and import rows (pure, testable). */
import type { LibraryDataset, LibraryFailure, LibraryJob } from '../../../shared/library'
import { formatBytes, formatDuration } from './format'

const FINAL_STATES = new Set(['done', 'failed', 'cancelled'])

/** Whether a job has ended (done, failed or cancelled). */
export function isFinished(job: LibraryJob): boolean {
  return FINAL_STATES.has(job.state)
}

/** The bar's fraction (0–1), or null when the total is unknown (an indeterminate bar). */
export function jobFraction(job: LibraryJob): number | null {
  if (job.state === 'done') return 1
  return job.total ? Math.min(1, job.done / job.total) : null
}

const STATE_WORDS: Record<LibraryJob['state'], string> = {
  downloading: 'Downloading',
  verifying: 'Checking the MD5',
  extracting: 'Extracting',
  scanning: 'Scanning',
  decoding: 'Decoding images',
  registering: 'Registering',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled'
}

/** "Downloading", "Checking the MD5", … */
export function stateWords(job: LibraryJob): string {
  return STATE_WORDS[job.state]
}

/** The amount done: "1.2 MB of 4.5 MB" or "120 of 300 files". */
export function jobAmount(job: LibraryJob): string {
  if (job.unit === 'bytes') return `${formatBytes(job.done)}${job.total ? ` of ${formatBytes(job.total)}` : ''}`
  return `${job.done.toLocaleString('en-US')}${job.total ? ` of ${job.total.toLocaleString('en-US')}` : ''} files`
}

/** The rate while downloading ("850 KB/s"), or '' when there is none. */
export function jobRate(job: LibraryJob): string {
  return job.bytesPerSecond !== null && job.bytesPerSecond > 0 ? `${formatBytes(job.bytesPerSecond)}/s` : ''
}

/** Time left ("12 s left"), or '' when unknown. */
export function jobEta(job: LibraryJob): string {
  return job.etaSeconds !== null && Number.isFinite(job.etaSeconds) && job.etaSeconds >= 0 ? `${formatDuration(job.etaSeconds)} left` : ''
}

const FAILURE_TITLES: Record<LibraryFailure, string> = {
  offline: 'The server could not be reached',
  http: 'The server did not send the file',
  interrupted: 'The transfer broke off (the partial file is kept; downloading again resumes it)',
  checksum: 'Checksum mismatch: the file is not the expected one',
  archive: 'The archive is damaged or not the expected release',
  data: 'The data is not readable',
  'not-found': 'Not found',
  conflict: 'Already in the library or already running',
  invalid: 'A value given is not acceptable',
  index: 'The library index cannot be read',
  cancelled: 'Cancelled',
  internal: 'Something went wrong inside the engine'
}

/** A failed job's headline in words. */
export function failureTitle(job: LibraryJob): string {
  if (job.state === 'cancelled') return job.kind === 'download' ? 'Cancelled; the partial file is kept, so downloading again resumes it' : 'Cancelled'
  return job.failure ? FAILURE_TITLES[job.failure] : 'Failed'
}

/** The engine's own message for a failed job (what exactly went wrong). */
export function failureDetail(job: LibraryJob): string {
  return job.error?.message ?? job.message
}

/** What a job is working on: "CIFAR-10" for a download, the folder's last part for an import. */
export function jobTitle(job: LibraryJob): string {
  if (job.kind === 'download') return job.target === 'cifar100' ? 'CIFAR-100' : job.target === 'cifar10' ? 'CIFAR-10' : job.target
  const parts = job.target.split(/[\\/]/).filter(Boolean)
  return parts.at(-1) ?? job.target
}

/** Problems with a mirror URL and MD5 typed in the advanced fields; empty fields are fine (the official ones apply). */
export function checkMirror(url: string, md5: string): { url: string; md5: string } {
  const problems = { url: '', md5: '' }
  const u = url.trim()
  if (u) {
    let parsed: URL | null = null
    try {
      parsed = new URL(u)
    } catch {
      problems.url = 'Not a URL; give a full address such as https://mirror.example.org/cifar-10-binary.tar.gz'
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') problems.url = 'Only http:// and https:// addresses can be downloaded; import a local file below instead'
  }
  const m = md5.trim()
  if (m && !/^[0-9a-fA-F]{32}$/.test(m)) problems.md5 = 'An MD5 is 32 hexadecimal digits'
  return problems
}

/** The download request's optional fields from the advanced inputs (only those filled in). */
export function mirrorInput(url: string, md5: string): { url?: string; md5?: string } {
  const u = url.trim()
  const m = md5.trim().toLowerCase()
  return { ...(u ? { url: u } : {}), ...(m ? { md5: m } : {}) }
}

/** "50,000 train · 10,000 test". */
export function countsLine(d: LibraryDataset): string {
  return `${d.counts.train.toLocaleString('en-US')} train · ${d.counts.test.toLocaleString('en-US')} test`
}

/** "32×32 px", or "mixed sizes" when the images differ. */
export function imageSizeLine(d: LibraryDataset): string {
  return d.imageSize ? `${d.imageSize.width}×${d.imageSize.height} px` : 'mixed sizes'
}

/** The first class names and how many more: "airplane, automobile, bird … +7 more". */
export function classesLine(d: LibraryDataset, shown = 6): string {
  const names = d.classes.map((c) => c.name)
  if (names.length <= shown) return names.join(', ')
  return `${names.slice(0, shown).join(', ')} … +${names.length - shown} more`
}

/** Where the dataset came from, in words. */
export function sourceLine(d: LibraryDataset): string {
  const s = d.source
  if (s.type === 'download') return `downloaded from ${s.url}`
  if (s.type === 'archive') return `extracted from ${s.path}${s.official ? ' (official release)' : ''}`
  return 'image folder, registered in place'
}

/**
 * A readable name from a dataset id alone, for a dataset the engine does not list (moved, or not
 * yet scanned): `demo` → "Demo patterns", `folder:/data/cifar10-jpg` → "cifar10-jpg".
 */
export function datasetNameFromId(id: string): string {
  if (id === 'demo') return 'Demo patterns'
  const colon = id.indexOf(':')
  const path = colon >= 0 ? id.slice(colon + 1) : id
  const last = path.split(/[\\/]/).filter(Boolean).at(-1)
  return last ?? id
}

/** The library's own count, worded so it never reads as "no datasets" beside usable ones: "2 downloaded or imported". */
export function libraryCountLine(count: number): string {
  return `${count} downloaded or imported`
}

/**
 * What an empty library says: that nothing was downloaded or imported, and, when other datasets are
 * usable (the built-in demo, folders the engine found), that those are ready.
 */
export function libraryEmptyLine(outside: number): string {
  const base = 'Nothing downloaded or imported into the library yet: download CIFAR-10 or CIFAR-100, or import a folder of images, on the left.'
  if (outside === 0) return base
  return `${base} The ${outside === 1 ? 'dataset' : `${outside} datasets`} listed on the left ${outside === 1 ? 'is' : 'are'} built in or found in the engine’s dataset folders and ready to use.`
}
