import { z } from 'zod'
import { ApiError, isApiErrorData, type ApiErrorData } from '../../shared/contract-errors'
import { ConfigError } from '../../shared/train-config'
import { DatasetError } from '../data/dataset'
import { TrainerCrashedError } from '../process/trainer-host'
import { ProjectFolderError } from '../project/project-folder'
import { ProjectError } from '../project/project-store'
import { ExperimentError } from '../train/plan-sweep'

/**
 * Turns anything a handler threw into the contract's plain error object, so a client always gets a
 * typed, serializable error: never a stack, never an empty `{}` (what JSON makes of an Error).
 */
export function toApiErrorData(error: unknown): ApiErrorData {
  if (error instanceof ApiError) return error.toData()
  if (isApiErrorData(error)) return error
  if (error instanceof z.ZodError) {
    const issues = error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }))
    const first = issues[0]
    return new ApiError('invalid-request', first ? `${first.path || 'input'}: ${first.message}` : 'invalid input', issues).toData()
  }
  if (error instanceof ConfigError) {
    return new ApiError('invalid-request', error.message, [{ path: `config.${error.key}`, message: error.message }]).toData()
  }
  if (error instanceof DatasetError) {
    return new ApiError(/not found/.test(error.problem) ? 'not-found' : 'dataset', error.message).toData()
  }
  if (error instanceof TrainerCrashedError) return new ApiError('trainer-crashed', error.message).toData()
  // A broken project.json or an experiment that cannot be planned: the user's input, said in words.
  if (error instanceof ProjectError || error instanceof ProjectFolderError || error instanceof ExperimentError) return new ApiError('invalid-request', error.message).toData()
  const named = error as { name?: string; message?: string } | null
  // Errors relayed from the trainer process keep only name and message.
  if (named?.name === 'ConfigError') return new ApiError('invalid-request', String(named.message)).toData()
  if (named?.name === 'DatasetError') return new ApiError('dataset', String(named.message)).toData()
  if (named?.name === 'TrainerBusyError') return new ApiError('busy', String(named.message)).toData()
  if (named?.name === 'RunBusyError') return new ApiError('busy', String(named.message)).toData()
  return new ApiError('internal', String(named?.message ?? error)).toData()
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '')
}
