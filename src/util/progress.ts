// Progress reporting as an interface, so library code (feature extraction, training) reports
// without knowing who draws it: the CLI's bar (src/cli/progress.ts) and the browser app
// implement it.

/** Receives progress of one long job of a known total. */
export interface ProgressSink {
  /** `n` more units done; `note` is shown beside the count (e.g. the current loss). */
  tick(n?: number, note?: string): void;
  /** The job is over. */
  finish(note?: string): void;
}
