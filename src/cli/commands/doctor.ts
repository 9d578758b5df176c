import type { BackendInfo } from '../../shared/backend'
import { selectBackend } from '../../engine/backend/select-backend'

/**
 * `cli doctor`: which backend and device the engine would use, every backend it tried on the way and
 * why it was or was not chosen (the WebGPU adapter it found, the CUDA library that failed to load), and
 * without a GPU what to do about it. `--json` prints the same as an object.
 */
export async function runDoctorCommand(argv: string[]): Promise<number> {
  const info = await selectBackend()
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`)
    return 0
  }
  process.stdout.write(`${formatDoctor(info).join('\n')}\n`)
  return 0
}

/** The doctor's report as lines of text. */
export function formatDoctor(info: BackendInfo): string[] {
  const lines = [`backend: ${info.backend}`, `device:  ${info.device} (${info.label})`, `threads: ${info.threads}`]
  if (info.adapter) lines.push(`adapter: ${describe(info.adapter)}`)
  lines.push('tried:')
  for (const attempt of info.attempts) {
    lines.push(`  ${attempt.chosen ? '✓' : '✗'} ${attempt.backend.padEnd(10)} ${attempt.chosen ? 'chosen: ' : ''}${attempt.reason}`)
    if (attempt.adapter && !attempt.chosen) lines.push(`    adapter: ${describe(attempt.adapter)}`)
  }
  if (info.gpuProblem) lines.push(`no GPU:  ${info.gpuProblem.message}`, `to fix:  ${info.gpuProblem.fix}`)
  for (const note of info.notes) lines.push(`note:    ${note}`)
  return lines
}

function describe(adapter: NonNullable<BackendInfo['adapter']>): string {
  const parts = [adapter.vendor && `vendor ${adapter.vendor}`, adapter.architecture && `architecture ${adapter.architecture}`, adapter.device && `device ${adapter.device}`].filter(Boolean)
  return `${adapter.description}${parts.length ? ` (${parts.join(', ')})` : ''}${adapter.software ? ' · software' : ''}`
}
