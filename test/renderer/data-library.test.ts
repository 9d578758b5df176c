import { describe, expect, it } from 'vitest'
import type { LibraryDataset, LibraryJob } from '../../src/shared/library'
import {
  checkMirror,
  classesLine,
  countsLine,
  datasetNameFromId,
  failureDetail,
  failureTitle,
  imageSizeLine,
  isFinished,
  jobAmount,
  jobEta,
  jobFraction,
  jobRate,
  jobTitle,
  libraryCountLine,
  libraryEmptyLine,
  mirrorInput,
  sourceLine
} from '../../src/renderer/src/lib/data-library'

function job(over: Partial<LibraryJob> = {}): LibraryJob {
  return {
    jobId: 'j1',
    kind: 'download',
    target: 'cifar10',
    state: 'downloading',
    done: 1024 * 1024,
    total: 4 * 1024 * 1024,
    unit: 'bytes',
    bytesPerSecond: 512 * 1024,
    etaSeconds: 6,
    resumedFromBytes: 0,
    message: 'downloading cifar-10-binary.tar.gz',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    dataset: null,
    error: null,
    failure: null,
    manual: null,
    ...over
  }
}

function dataset(over: Partial<LibraryDataset> = {}): LibraryDataset {
  const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
  return {
    name: 'cifar10',
    kind: 'cifar10',
    title: 'CIFAR-10',
    datasetIds: ['cifar10:/data/cifar10'],
    location: '/data/cifar10',
    managed: true,
    classes: names.map((name) => ({ name, train: 5000, test: 1000 })),
    counts: { train: 50000, test: 10000 },
    imageSize: { width: 32, height: 32 },
    bytesOnDisk: 184_000_000,
    source: { type: 'download', url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', bytes: 170_052_171 },
    addedAt: '2026-01-01T00:00:00.000Z',
    unreadable: [],
    unreadableCount: 0,
    available: true,
    ...over
  }
}

describe('download and import rows', () => {
  it('shows bytes, rate and time left while downloading', () => {
    const j = job()
    expect(jobAmount(j)).toBe('1.0 MB of 4.0 MB')
    expect(jobRate(j)).toBe('512 KB/s')
    expect(jobEta(j)).toBe('6 s left')
    expect(jobFraction(j)).toBe(0.25)
    expect(jobTitle(j)).toBe('CIFAR-10')
    expect(isFinished(j)).toBe(false)
  })

  it('has an indeterminate bar and no rate or ETA when they are unknown; counts files for imports', () => {
    const connecting = job({ done: 0, total: null, bytesPerSecond: null, etaSeconds: null })
    expect(jobFraction(connecting)).toBeNull()
    expect(jobAmount(connecting)).toBe('0 B')
    expect(jobRate(connecting)).toBe('')
    expect(jobEta(connecting)).toBe('')
    const scanning = job({ kind: 'import', target: '/home/me/photos/pets/', unit: 'files', done: 1200, total: 3000, bytesPerSecond: null, etaSeconds: null })
    expect(jobAmount(scanning)).toBe('1,200 of 3,000 files')
    expect(jobTitle(scanning)).toBe('pets')
  })

  it('says why a job failed in words, with the engine’s message', () => {
    const failed = job({ state: 'failed', failure: 'checksum', error: { name: 'ApiError', code: 'invalid-request', message: 'MD5 is abc, expected def' } })
    expect(isFinished(failed)).toBe(true)
    expect(failureTitle(failed)).toMatch(/^Checksum mismatch/)
    expect(failureDetail(failed)).toBe('MD5 is abc, expected def')
    expect(failureTitle(job({ state: 'failed', failure: 'offline' }))).toBe('The server could not be reached')
    expect(failureTitle(job({ state: 'cancelled', failure: 'cancelled' }))).toMatch(/partial file is kept/)
    expect(failureDetail(job({ state: 'failed', message: 'no error object' }))).toBe('no error object')
  })
})

describe('the mirror fields', () => {
  it('accepts empty fields, http(s) URLs and 32 hex digits, and says what is wrong otherwise', () => {
    expect(checkMirror('', '')).toEqual({ url: '', md5: '' })
    expect(checkMirror(' https://mirror.example.org/c.tar.gz ', 'C32A1D4AB5D03F1284B67883E8D87530')).toEqual({ url: '', md5: '' })
    expect(checkMirror('file:///etc/passwd', '').url).toMatch(/http/)
    expect(checkMirror('mirror.example.org', '').url).toMatch(/Not a URL/)
    expect(checkMirror('', 'abc').md5).toMatch(/32 hexadecimal/)
  })

  it('sends only the fields filled in, the MD5 in lower case', () => {
    expect(mirrorInput('', '  ')).toEqual({})
    expect(mirrorInput(' http://127.0.0.1:8080/x.tar.gz ', 'ABCDEF0123456789ABCDEF0123456789')).toEqual({ url: 'http://127.0.0.1:8080/x.tar.gz', md5: 'abcdef0123456789abcdef0123456789' })
  })
})

describe('library entries', () => {
  it('lists counts, image size, the first classes and the source', () => {
    const d = dataset()
    expect(countsLine(d)).toBe('50,000 train · 10,000 test')
    expect(imageSizeLine(d)).toBe('32×32 px')
    expect(classesLine(d)).toBe('airplane, automobile, bird, cat, deer, dog … +4 more')
    expect(classesLine(d, 10)).toBe('airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck')
    expect(sourceLine(d)).toBe('downloaded from https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz')
    const folder = dataset({ kind: 'folder', managed: false, imageSize: null, source: { type: 'folder', path: '/photos' } })
    expect(imageSizeLine(folder)).toBe('mixed sizes')
    expect(sourceLine(folder)).toBe('image folder, registered in place')
  })
})

describe('dataset names and the library’s counts', () => {
  it('names a dataset by its folder, never by its raw id', () => {
    expect(datasetNameFromId('folder:/data/shared/cifar10-jpg')).toBe('cifar10-jpg')
    expect(datasetNameFromId('cifar10:/home/me/data/cifar-10-batches-bin/')).toBe('cifar-10-batches-bin')
    expect(datasetNameFromId('demo')).toBe('Demo patterns')
  })

  it('never says "no datasets" beside usable ones', () => {
    expect(libraryCountLine(0)).toBe('0 downloaded or imported')
    expect(libraryEmptyLine(0)).not.toMatch(/listed on the left/)
    expect(libraryEmptyLine(3)).toMatch(/The 3 datasets listed on the left are built in or found in the engine’s dataset folders and ready to use/)
    expect(libraryEmptyLine(1)).toMatch(/The dataset listed on the left is built in/)
  })
})
