/**
 * One of several processes updating the same JSON file: `count` +1 and its own entry per iteration.
 * argv: file iterations startAtMs mode(lock|nolock) workerId. Waits until startAtMs so all workers overlap.
 */
import { readFile } from 'node:fs/promises'
import { writeJsonAtomic } from '../../../../src/engine/project/atomic-files'
import { updateJsonUnderLock } from '../../../../src/engine/project/project-lock'

interface Counter {
  count: number
  entries: string[]
}

const [file, iterations, startAt, mode, worker] = process.argv.slice(2) as [string, string, string, string, string]
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
// The gap between read and write that makes unguarded updates collide.
const bump = async (current: Counter | undefined, i: number): Promise<Counter> => {
  const base = current ?? { count: 0, entries: [] }
  await sleep(1 + Math.random() * 3)
  return { count: base.count + 1, entries: [...base.entries, `${worker}:${i}`] }
}

await sleep(Math.max(0, Number(startAt) - Date.now()))
for (let i = 0; i < Number(iterations); i++) {
  if (mode === 'lock') await updateJsonUnderLock<Counter>(file, (current) => bump(current, i), { pollMs: 5, timeoutMs: 60_000 })
  else {
    const current = await readFile(file, 'utf8').then((t) => JSON.parse(t) as Counter).catch(() => undefined)
    await writeJsonAtomic(file, await bump(current, i))
  }
}
