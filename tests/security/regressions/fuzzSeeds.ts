/**
 * Seeds (and shrunk paths) of fuzz runs that once failed, replayed first on every run of tests/security/fuzz.test.ts.
 * Add the `seed` and `path` fast-check prints for a failure, with a note on what it found.
 */
export const FUZZ_SEEDS: ReadonlyArray<{ property: 'frames' | 'first' | 'requests' | 'raw'; seed: number; path: string; note: string }> = [
  { property: 'raw', seed: 1978126606, path: '1', note: 'an upgrade to `http://` threw in new URL() inside the upgrade listener and ended the process' },
]
