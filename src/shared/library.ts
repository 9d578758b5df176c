/**
 * The dataset library as the contract (contract.ts) carries it: the datasets in the data folder, the
 * inputs of the download, import and remove requests, and the jobs that download and import.
 */
import type { ApiErrorData } from './contract-errors'

/** One class of a library dataset, with its image counts per split. */
export interface LibraryClass {
  name: string
  train: number
  test: number
}

/** Where a library dataset came from. */
export type LibrarySource =
  /** Downloaded from `url`; the archive's MD5 was checked before anything was registered. */
  | { type: 'download'; url: string; md5: string; bytes: number }
  /** Extracted from a local archive; `official` when its MD5 is the official release's. */
  | { type: 'archive'; path: string; md5: string; bytes: number; official: boolean }
  /** A folder registered where it is (nothing copied). */
  | { type: 'folder'; path: string }

/** A dataset in the library: what the dataset view lists. */
export interface LibraryDataset {
  /** Unique in the library: `cifar10`, `cifar100`, or an imported dataset's name (letters, digits, `.`, `_`, `-`). */
  name: string
  kind: 'cifar10' | 'cifar100' | 'folder'
  /** Display name, e.g. "CIFAR-10". */
  title: string
  /** The ids training requests use: one, or for CIFAR-100 the fine and the coarse labelling. */
  datasetIds: string[]
  /** Absolute folder holding the data. */
  location: string
  /** Whether the library made these files (download or archive import) and so may delete them. */
  managed: boolean
  /** Classes in label order with image counts per split. */
  classes: LibraryClass[]
  /** CIFAR-100's 20 superclasses (the coarse labelling), in label order. */
  coarseClassNames?: string[]
  /** Images per split (readable ones only). */
  counts: { train: number; test: number }
  /** Stored image size; null when the images differ in size (image folders are resized to the model's input size). */
  imageSize: { width: number; height: number } | null
  /** Size of the dataset's files on disk when it was registered (bytes). */
  bytesOnDisk: number
  source: LibrarySource
  /** ISO time of registration. */
  addedAt: string
  /** Image files that could not be decoded at import (at most 1,000 listed; `unreadableCount` counts them all). The folder reader fails on them unless told to skip unreadable files. */
  unreadable: { file: string; reason: string }[]
  unreadableCount: number
  /** False when `location` has gone missing since registration (moved or deleted outside the app). */
  available: boolean
}

/** The library and where it lives. */
export interface LibraryListing {
  /** The data folder: downloads and extracted archives go here, with the index `library.json`. */
  dataDir: string
  datasets: LibraryDataset[]
}

/** Downloads an official CIFAR binary release into the data folder. */
export interface DownloadDatasetInput {
  dataset: 'cifar10' | 'cifar100'
  /** A mirror (http or https) instead of the official URL; the official MD5 still applies unless `md5` is given. */
  url?: string
  /** Expected MD5 (32 hex digits) instead of the official one. */
  md5?: string
}

/** Imports a `.tar.gz` of a CIFAR binary release, an extracted CIFAR folder, or an image folder (`root/<class>/…`, optional `train/` + `test/`). */
export interface ImportDatasetInput {
  /** Absolute path on the machine running the engine. */
  path: string
  /** Library name (default: from the release or the folder name). */
  name?: string
}

export interface RemoveDatasetInput {
  name: string
  /** Also delete the files; only for datasets the library made (`managed`), never a folder registered in place. */
  deleteFiles?: boolean
}

export interface LibraryJobRef {
  jobId: string
}

/** What a library job is doing now; the last three are final. */
export type LibraryJobState =
  | 'downloading'
  | 'verifying'
  | 'extracting'
  | 'scanning'
  | 'decoding'
  | 'registering'
  | 'done'
  | 'failed'
  | 'cancelled'

/** Why a library job failed, for choosing what to show (the message says it in words). */
export type LibraryFailure =
  /** The server could not be reached at all (no network, DNS failure, connection refused, timeout). */
  | 'offline'
  /** The server answered, but not with the file (404, 500, an unexpected range reply…). */
  | 'http'
  /** The transfer broke off; the partial file is kept and the next download resumes it. */
  | 'interrupted'
  /** The file's MD5 is not the expected one; the download was deleted, nothing registered. */
  | 'checksum'
  /** The archive is damaged, truncated, unsafe (a path outside its folder, a link), or not the expected release. */
  | 'archive'
  /** The data itself is wrong (record length, label out of range, no images). */
  | 'data'
  /** The path or library entry named does not exist. */
  | 'not-found'
  /** The name is taken, or a job for the same dataset is already running. */
  | 'conflict'
  /** A value given is not acceptable (name, URL, MD5). */
  | 'invalid'
  /** The library index file cannot be read. */
  | 'index'
  | 'cancelled'
  /** A bug or an unexpected failure. */
  | 'internal'

/**
 * One progress report of a download or import while it works: what the CLI's bar shows, and the
 * running part of a `LibraryJob`.
 */
export interface LibraryProgress {
  state: Exclude<LibraryJobState, 'done' | 'failed' | 'cancelled'>
  /** Progress within the current state, in `unit`s: bytes while downloading, verifying and extracting; files while scanning and decoding. */
  done: number
  /** Null when unknown (a server that sends no length). */
  total: number | null
  unit: 'bytes' | 'files'
  /** Download rate over the last few seconds (bytes/s); null when not downloading. */
  bytesPerSecond: number | null
  /** Seconds left at that rate; null when unknown. */
  etaSeconds: number | null
  /** Bytes a download resumed from (kept from an interrupted attempt); 0 for a fresh start or an import. */
  resumedFromBytes: number
  /** One line for a status bar, e.g. "downloading cifar-10-binary.tar.gz". */
  message: string
}

/** A download or import, as the `library:job` event and `listLibraryJobs` report it: its latest progress, and how it ended. */
export interface LibraryJob extends Omit<LibraryProgress, 'state'> {
  jobId: string
  kind: 'download' | 'import'
  /** `cifar10`/`cifar100` for downloads, the path for imports. */
  target: string
  /** The progress states, and the three final ones. */
  state: LibraryJobState
  startedAt: string
  finishedAt: string | null
  /** The registered dataset, once done. */
  dataset: LibraryDataset | null
  /** Set when failed (or cancelled). */
  error: ApiErrorData | null
  failure: LibraryFailure | null
  /** What to do instead, e.g. the manual download steps when the server cannot be reached. */
  manual: string | null
}
