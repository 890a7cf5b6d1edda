/**
 * An error the user can fix (bad flag, missing file, broken WAV...). The CLI prints its
 * message as one line and exits non-zero, without a stack trace.
 */
export class UserError extends Error {}
