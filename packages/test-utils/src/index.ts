/**
 * Private test helpers: a real `cubby-server` process, real clients in Node, signed tokens.
 * @module
 */
export { CLI_PATH, startTestServer } from './startTestServer.js'
export type { TestServer, TestServerOptions } from './startTestServer.js'
export { connectTestClient } from './connectTestClient.js'
export type { TestClientOptions } from './connectTestClient.js'
export { signTestToken } from './signTestToken.js'
export type { TestTokenClaims } from './signTestToken.js'
export { startRemoteDevice } from './startRemoteDevice.js'
export type { RemoteDevice } from './startRemoteDevice.js'
export { openRawSocket } from './openRawSocket.js'
export type { RawSocket } from './openRawSocket.js'
export { rawHttp } from './rawHttp.js'
export type { HttpAnswer } from './rawHttp.js'
export { freePort } from './freePort.js'
export { REDIS_CLI, REDIS_SERVER, startRedis } from './startRedis.js'
export type { TestRedis, TestRedisOptions } from './startRedis.js'
export { startRedisCluster } from './startRedisCluster.js'
export type { TestRedisCluster, TestRedisClusterOptions } from './startRedisCluster.js'
export { startTcpForwarder } from './startTcpForwarder.js'
export type { TcpForwarder } from './startTcpForwarder.js'
