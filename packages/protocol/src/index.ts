/**
 * The Cubby wire protocol: message types and their parsers, the value codec, limits and error codes.
 * Imported by both the client and the server; uses no browser- or Node-only API (only `atob`/`btoa`, which both have).
 * @module
 */

// Errors
export { CubbyError, isCubbyError } from './CubbyError.js'
export { CUBBY_ERROR_CODES, UNAUTHORIZED_REASONS, isCubbyErrorCode, isUnauthorizedReason } from './errorCodes.js'
export type { CubbyErrorCode, UnauthorizedReason } from './errorCodes.js'

// Self-certified device tokens
export { DEVICE_TOKEN_CLOCK_SKEW_SECONDS, DEVICE_USER_PREFIX, MAX_DEVICE_TOKEN_SECONDS } from './deviceToken.js'
export type { DevicePublicJwk, DeviceTokenClaims } from './deviceToken.js'

// Limits and keys
export { DEFAULT_LIMITS, assertValidKey, assertValidUserId, compareKeys, isWellFormed, utf8Length } from './limits.js'
export type { CubbyLimits } from './limits.js'

// Values
export { CUBBY_VALUE_CONTENT_TYPE, JSON_CONTENT_TYPE, decodeValue, encodeValue, isJsonEncoding } from './valueCodec.js'
export { isJsonDeeperThan } from './codec/jsonDepth.js'
export { MAX_DEPTH as MAX_VALUE_DEPTH } from './codec/shared.js'

// Messages
export { CLOSE_CODES, PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, SYNC_PATH } from './messages.js'
export type {
  AckMessage,
  Change,
  ChangesMessage,
  ClientMessage,
  ErrorMessage,
  HelloMessage,
  Mutation,
  MutationResult,
  PingMessage,
  PongMessage,
  PushMessage,
  ServerMessage,
  SyncedMessage,
  UserDeletedMessage,
  WelcomeMessage,
  WireError,
  WriteCondition,
} from './messages.js'
export { MAX_BATCH_ID_LENGTH, MAX_CLIENT_ID_LENGTH, MAX_MUTATIONS_PER_BATCH, MAX_MUTATIONS_PER_PUSH, parseClientMessage, parseServerMessage } from './parseMessage.js'
