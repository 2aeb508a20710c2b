/**
 * The Cubby wire protocol: message types and their parsers, the value codec, limits and error codes.
 * Imported by both the client and the server; uses no browser- or Node-only API (only `atob`/`btoa`, which both have).
 * @module
 */

// Errors
export { CubbyError, isCubbyError } from './CubbyError.js'
export { CUBBY_ERROR_CODES, UNAUTHORIZED_REASONS, isCubbyErrorCode, isUnauthorizedReason } from './errorCodes.js'
export type { CubbyErrorCode, UnauthorizedReason } from './errorCodes.js'

// Account merge
export { MERGE_PATH, MERGE_PREFERENCES, MERGE_REFUSAL_REASONS } from './accountMerge.js'
export type { MergeAnswer, MergeCredential, MergePreference, MergeRefusalReason, MergeRequest } from './accountMerge.js'

// Self-certified device tokens
export { DEVICE_TOKEN_CLOCK_SKEW_SECONDS, DEVICE_USER_PREFIX, MAX_DEVICE_TOKEN_SECONDS } from './deviceToken.js'
export type { DevicePublicJwk, DeviceTokenClaims } from './deviceToken.js'

// Devices and link codes
export {
  DEFAULT_LINK_CODE_SECONDS, DEVICE_SEEN_INTERVAL_MS, MAX_DEVICE_LABEL_BYTES, MAX_DEVICES_PER_USER, MAX_LINK_CODE_SECONDS, MAX_LINK_CODES_PER_USER,
} from './devices.js'
export type { DeviceInfo, DeviceListResponse, LinkCodeResponse, RedeemLinkResponse } from './devices.js'

// Limits and keys
export { DEFAULT_LIMITS, MAX_MUTATIONS_PER_BATCH, assertValidKey, assertValidUserId, compareKeys, isWellFormed, utf8Length } from './limits.js'
export type { CubbyLimits } from './limits.js'

// Expiry
export { MAX_TTL_MS, isExpired, isExpiresAt, resolveExpiresAt } from './expiry.js'
export type { ExpiryInput } from './expiry.js'

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
export { MAX_BATCH_ID_LENGTH, MAX_CLIENT_ID_LENGTH, MAX_MUTATIONS_PER_PUSH, parseClientMessage, parseServerMessage } from './parseMessage.js'
