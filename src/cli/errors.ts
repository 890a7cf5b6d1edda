import { NoAdapterError, SettingError } from '../gpu/errors.js';
import { AdapterLimitError } from '../engine/engine.js';
import { OutputError, isUserIoCode } from '../io/atomic.js';
import { JsonFileError } from '../io/json.js';

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

/**
 * The one line a user-caused error prints (exit 2), or null for a bug (exit 70). A file-system
 * error the user can fix (missing folder, full or read-only disk...) that escaped its caller
 * still names its path and cause rather than reading as an internal error.
 */
export function userMessage(e: unknown): string | null {
  if (e instanceof UserError || e instanceof NoAdapterError || e instanceof SettingError || e instanceof OutputError || e instanceof JsonFileError) return e.message;
  if (e instanceof AdapterLimitError) return `${e.message}: a smaller batch or model needs less`;
  const io = e as NodeJS.ErrnoException;
  if (io instanceof Error && typeof io.path === 'string' && isUserIoCode(io.code)) return new OutputError(io.path, io.code!).message.replace('cannot write', `cannot ${io.syscall ?? 'use'}`);
  return null;
}
