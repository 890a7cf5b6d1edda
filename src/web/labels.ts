// The class and speaker of a file the user picked, from its name: EmoDB and RAVDESS names
// (parsed by the corpus loaders' own parsers), or a folder named after the class
// ('angry/x.wav'). Other emotions (boredom, fear, calm...) are left out, as the loaders do.
import { CLASSES, labelId, type Label } from '../data/corpus.js';
import { parseEmodbName } from '../data/emodb.js';
import { parseRavdessName } from '../data/ravdess.js';

// The 4-class subsets of each corpus's emotion codes (the loaders keep the same ones).
const EMODB_CLASS: Record<string, Label> = { W: 'angry', F: 'happy', N: 'neutral', T: 'sad' };
const RAVDESS_CLASS: Record<string, Label> = { '05': 'angry', '03': 'happy', '01': 'neutral', '04': 'sad' };

/** A name of a known corpus whose emotion is not one of the 4 classes (boredom, fear, calm...). */
export const OTHER_EMOTION = 'other emotion';

export interface FileLabel {
  label: number;
  speaker: string;
  corpus: 'emodb' | 'ravdess' | 'folder';
}

/** `path` is the file's path relative to the picked folder (webkitRelativePath) or its name. */
export function labelFromPath(path: string): FileLabel | typeof OTHER_EMOTION | null {
  const parts = path.split('/');
  const file = parts[parts.length - 1];
  if (!file.toLowerCase().endsWith('.wav')) return null;
  const emodb = parseEmodbName(file);
  if (emodb) {
    const c = EMODB_CLASS[emodb.emotion];
    return c ? { label: labelId(c), speaker: `emodb-${emodb.speaker}`, corpus: 'emodb' } : OTHER_EMOTION;
  }
  const ravdess = parseRavdessName(file);
  if (ravdess) {
    // Audio-only (modality 03) speech (channel 01), as the loader keeps.
    const c = ravdess.modality === '03' && ravdess.channel === '01' ? RAVDESS_CLASS[ravdess.emotion] : undefined;
    return c ? { label: labelId(c), speaker: `ravdess-${ravdess.actor}`, corpus: 'ravdess' } : OTHER_EMOTION;
  }
  for (let i = parts.length - 2; i >= 0; i--) {
    const dir = parts[i].toLowerCase();
    if ((CLASSES as readonly string[]).includes(dir)) return { label: labelId(dir as Label), speaker: '', corpus: 'folder' };
  }
  return null;
}

/**
 * Held-out examples for the UAR curve: whole speakers (every 5th speaker in sorted order,
 * so the curve measures speaker-independent accuracy); every 5th file when speakers are unknown.
 */
export function heldOut(labels: readonly FileLabel[]): boolean[] {
  const speakers = [...new Set(labels.map((l) => l.speaker).filter((s) => s !== ''))].sort();
  if (speakers.length >= 2) {
    const test = new Set(speakers.filter((_, i) => i % 5 === 0));
    return labels.map((l) => test.has(l.speaker));
  }
  return labels.map((_, i) => i % 5 === 0);
}
