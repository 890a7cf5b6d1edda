/**
 * A file that cannot be used as audio (unreadable, unknown format, broken, outside the
 * limits of limits.ts). Its message is one line that starts with the file's name; the CLI
 * prints it and exits 2 (UserError), a corpus skips the file and names it.
 */
export class AudioError extends Error {
  override name = 'AudioError';
}
