import { selectBackend } from '../../engine/backend/select-backend'

/**
 * `cli doctor`: which backend and device the engine would use and, without a GPU, why not and what
 * to do. `--json` prints the same as an object.
 */
export async function runDoctorCommand(argv: string[]): Promise<number> {
  const info = await selectBackend()
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`)
    return 0
  }
  const lines = [`backend: ${info.backend}`, `device:  ${info.device} (${info.label})`, `threads: ${info.threads}`]
  if (info.gpuProblem) {
    lines.push(`no GPU:  ${info.gpuProblem.message}`, `to fix:  ${info.gpuProblem.fix}`)
  }
  for (const note of info.notes) lines.push(`note:    ${note}`)
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}
