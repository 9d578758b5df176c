import { readFileSync } from 'node:fs'
import { freemem, totalmem } from 'node:os'
import type { EngineMemory } from '../../shared/contract'

/**
 * Resident memory of another process, from /proc on Linux (where the workbench's GPU boxes run);
 * null where the platform does not tell us cheaply.
 */
export function readProcessRss(pid: number | null): number | null {
  if (pid === null || process.platform !== 'linux') return null
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

/** Memory of the machine, of this process and of the trainer process. */
export function measureMemory(trainerPid: number | null): EngineMemory {
  return {
    systemTotalBytes: totalmem(),
    systemFreeBytes: freemem(),
    hostRssBytes: process.memoryUsage.rss(),
    trainerRssBytes: readProcessRss(trainerPid)
  }
}
