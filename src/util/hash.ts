// A short content hash for cache stamps, in plain TypeScript (the browser has no node:crypto).

/**
 * 64 bits of FNV-1a (two 32-bit lanes with different offsets) over the UTF-16 code units of
 * `text`, as 16 hex digits. Not cryptographic: it tells versions of a text apart.
 */
export function hashText(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
