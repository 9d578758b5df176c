/**
 * The one error type of the dataset library. Every failure names the thing it is about (a URL, a
 * file, an archive member, a value) and carries a reason the CLI and the UI can branch on, plus, where
 * there is one, what the user can do instead.
 */
import type { LibraryFailure } from '../../shared/library'

/** Why a library operation failed (the contract documents each reason). */
export type LibraryFailureReason = Exclude<LibraryFailure, 'internal'>

/** A library failure: `subject` is the URL, file, member or value it is about. */
export class LibraryError extends Error {
  override name = 'LibraryError'

  constructor(
    readonly reason: LibraryFailureReason,
    readonly subject: string,
    readonly problem: string,
    /** What the user can do instead (e.g. the manual download steps when offline). */
    readonly manual?: string
  ) {
    super(`${subject}: ${problem}`)
  }
}

/** Whether an error is a cancellation: an AbortSignal's abort, or a 'cancelled' LibraryError. */
export function isCancellation(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | null
  return e?.name === 'AbortError' || e?.code === 'ABORT_ERR' || (error instanceof LibraryError && error.reason === 'cancelled')
}

/** Throws a 'cancelled' LibraryError when the signal has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined, subject: string): void {
  if (signal?.aborted) throw new LibraryError('cancelled', subject, 'cancelled')
}
