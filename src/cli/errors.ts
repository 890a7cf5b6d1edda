/**
 * An error the user can fix (bad flag, missing file, broken WAV...). The CLI prints its
 * message as one line and exits non-zero, without a stack trace.
 */
export class UserError extends Error {}

/**
 * The exit codes of every `ser` command (sysexits-style 70 for bugs):
 * - OK (0): everything asked for was done;
 * - SOME_FAILED (1): a batch or corpus command finished, but some files were skipped or failed
 *   (each reported on stderr by name with its reason);
 * - USAGE (2): the command itself could not run: bad flag, missing or unreadable input the whole
 *   command depends on, unwritable output, corrupt checkpoint (one line naming the path);
 * - INTERNAL (70): a bug; the message says so and SER_DEBUG=1 shows the stack.
 */
export const EXIT = { OK: 0, SOME_FAILED: 1, USAGE: 2, INTERNAL: 70 } as const;
