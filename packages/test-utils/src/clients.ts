/**
 * The helpers a DOM test (happy-dom) can load: clients and tokens. The main entry also starts servers and
 * resolves file paths when it loads, which a happy-dom environment refuses.
 * @module
 */
export { connectTestClient } from './connectTestClient.js'
export type { TestClientOptions } from './connectTestClient.js'
export { craftToken, offlineToken, signTestToken } from './signTestToken.js'
export type { TestTokenClaims } from './signTestToken.js'
