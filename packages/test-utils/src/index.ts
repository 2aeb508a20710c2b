/**
 * Private test helpers, one of each: a real server in process or as a `cubby-server` process, real clients in
 * Node, raw sockets, tokens.
 * @module
 */
export { startTestServer } from './startTestServer.js'
export type { TestServer, TestServerOptions } from './startTestServer.js'
export { CLI_PATH, startCliServer } from './startCliServer.js'
export type { CliServer, CliServerOptions } from './startCliServer.js'
export { connectTestClient } from './connectTestClient.js'
export type { TestClientOptions } from './connectTestClient.js'
export { craftToken, offlineToken, signTestToken } from './signTestToken.js'
export type { TestTokenClaims } from './signTestToken.js'
export { startRemoteDevice } from './startRemoteDevice.js'
export type { RemoteDevice } from './startRemoteDevice.js'
export { connectUser, openRawSocket } from './openRawSocket.js'
export type { RawSocket, RawSocketOptions, TokenServer } from './openRawSocket.js'
export { rawHttp } from './rawHttp.js'
export type { HttpAnswer } from './rawHttp.js'
export { freePort } from './freePort.js'
export { REDIS_CLI, REDIS_SERVER, startRedis } from './startRedis.js'
export type { TestRedis, TestRedisOptions } from './startRedis.js'
export { startRedisCluster } from './startRedisCluster.js'
export type { TestRedisCluster, TestRedisClusterOptions } from './startRedisCluster.js'
export { startTcpForwarder } from './startTcpForwarder.js'
export type { TcpForwarder } from './startTcpForwarder.js'
export { startRedisDeployment } from './startRedisDeployment.js'
export type { RedisDeploymentOptions, TestRedisDeployment } from './startRedisDeployment.js'
