// The README's code snippets, as written, for the tests that run them.
import { readFileSync } from 'node:fs';

/** The fenced js block right after `<!-- library-snippet:KIND -->` in README.md. */
export function readmeSnippet(kind: 'node' | 'browser'): string {
  const text = readFileSync('README.md', 'utf8');
  const m = new RegExp(`<!-- library-snippet:${kind} -->\\s*\`\`\`js\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (!m) throw new Error(`README.md has no snippet marked <!-- library-snippet:${kind} -->`);
  return m[1] + '\n';
}
