/**
 * The one error shape of the contract. Errors cross the transport as plain objects (Electron's
 * structured clone and the WebSocket's JSON both keep plain objects but drop an Error's class and
 * fields), and the client turns them back into `ApiError`s.
 */

/** What kind of failure a request met; the UI decides how to show it from this, not from the text. */
export type ApiErrorCode =
  /** The input failed validation (wrong shape, unknown key, value out of range). */
  | 'invalid-request'
  /** No such request name on the server. */
  | 'unknown-request'
  /** The thing named (run, dataset folder, class) does not exist. */
  | 'not-found'
  /** The data could not be read or is not what its kind promises. */
  | 'dataset'
  /** The trainer is running another job (one run at a time). */
  | 'busy'
  /** Declared in the contract but not supported by this engine yet. */
  | 'unsupported'
  /** The trainer process died while doing this. */
  | 'trainer-crashed'
  /** A bug or an unexpected failure; the message says what. */
  | 'internal'

/** One validation problem: where in the input (`config.lr`, `classes[2]`) and what is wrong. */
export interface ApiIssue {
  path: string
  message: string
}

/** The serialized form of an error, as it travels. */
export interface ApiErrorData {
  /** Always 'ApiError': tells an error object from any other rejection value. */
  name: 'ApiError'
  code: ApiErrorCode
  message: string
  issues?: ApiIssue[]
}

/** A failed request, as the renderer (or any client) sees it. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly code: ApiErrorCode
  readonly issues: ApiIssue[]

  constructor(code: ApiErrorCode, message: string, issues: ApiIssue[] = []) {
    super(message)
    this.code = code
    this.issues = issues
  }

  /** The plain object that crosses the transport. */
  toData(): ApiErrorData {
    return { name: 'ApiError', code: this.code, message: this.message, ...(this.issues.length ? { issues: this.issues } : {}) }
  }

  /** Rebuilds the error on the receiving side. */
  static fromData(data: ApiErrorData): ApiError {
    return new ApiError(data.code, data.message, data.issues ?? [])
  }
}

/** Whether a rejection value is a serialized ApiError. */
export function isApiErrorData(value: unknown): value is ApiErrorData {
  const v = value as Partial<ApiErrorData> | null
  return typeof v === 'object' && v !== null && v.name === 'ApiError' && typeof v.code === 'string' && typeof v.message === 'string'
}
