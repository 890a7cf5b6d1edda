// Names read from result files (model, corpus, adapter) are data, not paths or markup: a
// hand-edited or foreign file with a model named '../../x' must not steer where the report
// writes, nor break the Markdown tables.

/**
 * `s` as one safe file-name component: letters, digits and . _ + - kept, anything else
 * (slashes, '..', spaces, control characters, '|') replaced by '_', no leading dot, at most
 * 64 characters, never empty. Used for names that become file names and table cells.
 */
export function safeName(s: unknown): string {
  const out = String(s)
    .replace(/[^A-Za-z0-9._+-]/g, '_')
    .replace(/\.{2,}/g, '_')
    .replace(/^[.]+/, '_')
    .slice(0, 64);
  return out === '' ? '_' : out;
}

/** `s` as one line of Markdown table text: no newlines or '|' (which would end the cell), at most 200 characters. */
export function safeText(s: unknown): string {
  return String(s)
    .replace(/[\r\n\t|`<>]/g, ' ')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .slice(0, 200);
}
