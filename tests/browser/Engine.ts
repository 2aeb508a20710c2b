/**
 * The little of a browser that the browser tests use, the same in every engine: Chromium through playwright-core
 * (`chromiumEngine.ts`), Firefox through puppeteer-core over WebDriver BiDi (`firefoxEngine.ts`). Read the page
 * through `evaluate`; the methods here are only what a page script cannot do by itself.
 */
export interface Engine {
  /** Short and lowercase, for file names: `chromium`, `firefox`. */
  readonly name: 'chromium' | 'firefox'
  /** For test titles: `Chromium`, `Firefox`. */
  readonly label: string
  /**
   * Tells whether the machine has this browser. Without it the tests of this engine are skipped with a loud notice,
   * except under `CI=true`, where a missing browser fails the run instead of passing it silently.
   */
  available(): boolean
  /** Launches the browser headless with a fresh profile, removed on close. */
  launch(options?: LaunchOptions): Promise<EngineBrowser>
}

/** How to launch a browser. */
interface LaunchOptions {
  /**
   * A host name that resolves to 127.0.0.1 in this browser without being localhost, so that a page opened on it
   * over plain http is no secure context (as from a phone on the LAN).
   */
  readonly insecureHost?: string
}

/** A running browser; `await using` closes it. */
export interface EngineBrowser extends AsyncDisposable {
  /** A new profile inside this browser (its own storage, locks and channels): a new device. */
  newContext(): Promise<EngineContext>
  close(): Promise<void>
}

/** One profile: its pages are tabs that share IndexedDB, Web Locks and BroadcastChannel. */
export interface EngineContext {
  /** A new tab (1280×800), blank; page errors are logged. */
  newPage(): Promise<EnginePage>
  /** Cuts or restores the network of every tab of this profile, firing the pages' `offline` and `online` events. */
  setOffline(offline: boolean): Promise<void>
}

/** One tab. Selectors are CSS; every wait gives up after `timeoutMs` (15 s by default). */
export interface EnginePage {
  readonly engine: Engine['name']
  /** Runs `script` in this page before any of its own scripts, on every navigation from now on. */
  addInitScript(script: string): Promise<void>
  /** Navigates and waits for the `load` event. */
  goto(url: string): Promise<void>
  reload(): Promise<void>
  url(): string
  /** Runs `fn(arg)` in the page (`fn` is sent as source: it sees only `arg`) and returns its JSON-like result. */
  evaluate<TResult, TArg = undefined>(fn: (arg: TArg) => TResult | Promise<TResult>, arg?: TArg): Promise<TResult>
  /** Waits until `fn(arg)`, run in the page, is truthy. */
  waitForFunction<TArg = undefined>(fn: (arg: TArg) => unknown, arg?: TArg, timeoutMs?: number): Promise<void>
  /** Waits until an element matching `selector` is visible. */
  waitFor(selector: string, timeoutMs?: number): Promise<void>
  /** Replaces the value of the input `selector` as typing would. */
  fill(selector: string, value: string): Promise<void>
  click(selector: string): Promise<void>
  /** Writes a PNG of the whole page to `path`. */
  screenshot(path: string): Promise<void>
  close(): Promise<void>
}

/** The default wait of an EnginePage, in milliseconds. @internal */
export const WAIT_MS = 15_000
