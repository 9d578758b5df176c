/**
 * The official CIFAR binary releases: where they are, how big, their checksums, and exactly which
 * members their archives hold. Extraction writes only these members; everything else in an archive
 * is skipped.
 */

/** One member data file of a release, with the split it holds. */
export interface CifarDataFile {
  split: 'train' | 'test'
  file: string
  /** Records in the official file (its size is records × recordBytes); archives are capped by it. */
  records: number
}

/** An official CIFAR binary release. */
export interface CifarRelease {
  /** Library name and dataset kind. */
  name: 'cifar10' | 'cifar100'
  title: string
  url: string
  /** The archive's file name (also its name in the downloads folder). */
  fileName: string
  /** Size of the official archive in bytes. */
  bytes: number
  md5: string
  /** The one folder every member sits in. */
  topFolder: string
  /** Bytes per record: label byte(s) + 3,072 pixel bytes. */
  recordBytes: number
  /** Offset of the label byte that indexes `namesFile` (CIFAR-100: the fine label). */
  labelOffset: number
  /** CIFAR-100's coarse label: its offset and names file. */
  coarse?: { labelOffset: number; namesFile: string }
  dataFiles: CifarDataFile[]
  /** Class names, one a line, in label order. */
  namesFile: string
  /** Members extracted when present but not required. */
  optionalFiles: string[]
}

/** Pixel bytes of one 32×32 RGB record. */
export const CIFAR_IMAGE_BYTES = 3 * 32 * 32

const CIFAR10: CifarRelease = {
  name: 'cifar10',
  title: 'CIFAR-10',
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  fileName: 'cifar-10-binary.tar.gz',
  bytes: 170_052_171,
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  topFolder: 'cifar-10-batches-bin',
  recordBytes: 1 + CIFAR_IMAGE_BYTES,
  labelOffset: 0,
  dataFiles: [
    ...[1, 2, 3, 4, 5].map((n) => ({ split: 'train' as const, file: `data_batch_${n}.bin`, records: 10_000 })),
    { split: 'test', file: 'test_batch.bin', records: 10_000 }
  ],
  namesFile: 'batches.meta.txt',
  optionalFiles: ['readme.html']
}

const CIFAR100: CifarRelease = {
  name: 'cifar100',
  title: 'CIFAR-100',
  url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
  fileName: 'cifar-100-binary.tar.gz',
  bytes: 168_513_733,
  md5: '03b5dce01913d631647c71ecec9e9cb8',
  topFolder: 'cifar-100-binary',
  recordBytes: 2 + CIFAR_IMAGE_BYTES,
  labelOffset: 1,
  coarse: { labelOffset: 0, namesFile: 'coarse_label_names.txt' },
  dataFiles: [
    { split: 'train', file: 'train.bin', records: 50_000 },
    { split: 'test', file: 'test.bin', records: 10_000 }
  ],
  namesFile: 'fine_label_names.txt',
  optionalFiles: []
}

/** The releases by library name. */
export const CIFAR_RELEASES: Readonly<Record<CifarRelease['name'], CifarRelease>> = Object.freeze({ cifar10: CIFAR10, cifar100: CIFAR100 })

/** Looks a release up by name; undefined for anything else. */
export function findRelease(name: string): CifarRelease | undefined {
  return Object.hasOwn(CIFAR_RELEASES, name) ? CIFAR_RELEASES[name as CifarRelease['name']] : undefined
}

/** The release whose archive members sit in `topFolder`, if any. */
export function releaseByTopFolder(topFolder: string): CifarRelease | undefined {
  return Object.values(CIFAR_RELEASES).find((r) => r.topFolder === topFolder)
}

/** Every member a release's archive may hold: data files, names files, optional extras. */
export function releaseMembers(release: CifarRelease): { required: string[]; optional: string[] } {
  const required = [...release.dataFiles.map((f) => f.file), release.namesFile, ...(release.coarse ? [release.coarse.namesFile] : [])]
  return { required, optional: release.optionalFiles }
}

/** The names files and extras of a release are a few hundred bytes (the readme a few KB); this is their cap. */
export const MAX_TEXT_MEMBER_BYTES = 64 * 1024
/** Room for tar headers and padding, directory entries and a few small extra members. */
const ARCHIVE_SLACK_BYTES = 4 * 1024 * 1024

/** The largest a member of the release's archive may unpack to: a data file's official size, else the text cap. */
export function maxMemberBytes(release: CifarRelease, file: string): number {
  const data = release.dataFiles.find((f) => f.file === file)
  return data ? data.records * release.recordBytes : MAX_TEXT_MEMBER_BYTES
}

/**
 * The most an archive of the release may unpack to in all (the tar stream, headers included): its
 * members at their official sizes plus a little slack. The official CIFAR-10 archive unpacks to
 * about 185 MB, CIFAR-100's to about 185 MB as well.
 */
export function maxArchiveBytes(release: CifarRelease): number {
  const { required, optional } = releaseMembers(release)
  return [...required, ...optional].reduce((sum, file) => sum + maxMemberBytes(release, file), ARCHIVE_SLACK_BYTES)
}

/** What to do when a download cannot reach the server: the manual route, which checks the same MD5. */
export function manualDownloadSteps(release: CifarRelease, url = release.url): string {
  return (
    `download ${url} with a browser or on another machine (${release.bytes.toLocaleString('en-US')} bytes, MD5 ${release.md5}), ` +
    `then import the file: \`npm run cli -- dataset import ${release.fileName}\` or Import in the dataset view`
  )
}
