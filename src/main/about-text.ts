import type { AppInfo, EngineStatus } from '../shared/contract'

/** The Help → About text: version, and the backend and device training uses. */
export function formatAboutDetail(info: AppInfo, status: EngineStatus): string {
  const backend =
    status.backendState === 'known' && status.backend
      ? `${status.backend.backend} on ${status.backend.device.toUpperCase()} (${status.backend.label})`
      : status.backendState === 'failed'
        ? 'could not be determined (see the log)'
        : 'being determined…'
  const lines = [
    `Version ${info.version} (contract ${info.contractVersion})`,
    `Backend: ${backend}`,
    ...(status.backend?.gpuProblem ? [`No GPU: ${status.backend.gpuProblem.message}`] : []),
    `Trainer process: ${status.trainer}${status.trainerPid ? ` (pid ${status.trainerPid})` : ''}`,
    `Electron ${info.versions['electron'] ?? '?'} · Chromium ${info.versions['chrome'] ?? '?'} · Node ${info.versions['node'] ?? '?'}`
  ]
  return lines.join('\n')
}
