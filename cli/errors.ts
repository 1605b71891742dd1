// Bad input is the user's to fix: one clear sentence and exit code 2, never a stack trace.
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNKNOWN = 3;
/** Stopped by Ctrl-C (128 + SIGINT), as shells report it: the work was not all done. */
export const EXIT_INTERRUPTED = 130;
