import { readFile } from 'node:fs/promises'
import type { MetricsRecord } from '../../shared/metrics'

/**
 * Reads a run's `metrics.jsonl`. The trainer appends while we read, so the last line may be half
 * written: a line that does not parse is skipped rather than failing the whole read. A missing file
 * (the run has not reached training yet) is an empty list.
 */
export async function readMetricsFile(file: string): Promise<MetricsRecord[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const records: MetricsRecord[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    try {
      const record = JSON.parse(line) as MetricsRecord
      if (record?.type === 'batch' || record?.type === 'epoch') records.push(record)
    } catch {
      // A line still being written.
    }
  }
  return records
}
