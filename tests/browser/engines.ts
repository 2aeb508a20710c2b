import type { Engine } from './Engine.js'
import { chromiumEngine } from './chromiumEngine.js'
import { firefoxEngine } from './firefoxEngine.js'

/**
 * The engines every browser test runs in. Use it as
 * `describe.each(engines)('$label', (engine) => { describe.runIf(engine.available())('…', () => { … }) })`,
 * and open pages through `engine.launch()`, so a test is written once for all of them.
 */
export const engines: readonly Engine[] = [chromiumEngine, firefoxEngine]
