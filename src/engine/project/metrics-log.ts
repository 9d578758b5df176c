import { appendFile, readFile } from 'node:fs/promises'
import type { MetricsRecord } from '../../shared/metrics'
import { writeFileAtomic } from './atomic-files'

/**
 * Reads a `metrics.jsonl`. A torn last line (the process died mid-append) is skipped; a bad line
 * anywhere else is an error naming the file and line, since that is not a crash artefact.
 */
export async function readMetrics(file: string): Promise<MetricsRecord[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return parseMetrics(text, file)
}

/** Parses metrics lines; see readMetrics. */
export function parseMetrics(text: string, file: string): MetricsRecord[] {
  const lines = text.split('\n')
  const records: MetricsRecord[] = []
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    try {
      records.push(JSON.parse(line) as MetricsRecord)
    } catch {
      const isLast = lines.slice(i + 1).every((rest) => rest.trim() === '')
      if (!isLast) throw new Error(`${file}: line ${i + 1} is not valid JSON`)
    }
  })
  return records
}

/** Appends one record as a line. */
export async function appendMetrics(file: string, record: MetricsRecord): Promise<void> {
  await appendFile(file, `${JSON.stringify(record)}\n`)
}

/**
 * Rewrites the log (atomically) keeping only records of epochs ≤ `lastEpoch` — what a resumed run
 * keeps, so every epoch ends up in the file exactly once.
 */
export async function truncateMetrics(file: string, lastEpoch: number): Promise<MetricsRecord[]> {
  const kept = (await readMetrics(file)).filter((r) => r.epoch <= lastEpoch)
  await writeFileAtomic(file, kept.map((r) => `${JSON.stringify(r)}\n`).join(''))
  return kept
}
