/**
 * Every limit and default of the core package, in one place (as `ws` keeps them).
 *
 * @internal
 */

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_NORMAL = 1000
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_UNSUPPORTED_DATA = 1003
export const CLOSE_NO_STATUS = 1005
export const CLOSE_ABNORMAL = 1006
export const CLOSE_INVALID_PAYLOAD = 1007
export const CLOSE_POLICY_VIOLATION = 1008
export const CLOSE_MESSAGE_TOO_BIG = 1009
export const CLOSE_INTERNAL_ERROR = 1011
export const CLOSE_TRY_AGAIN_LATER = 1013

/** A close frame's payload is at most 125 bytes: 2 for the code, 123 for the reason. */
export const MAX_CLOSE_REASON_BYTES = 123

/** Default time the close handshake may take before the transport is dropped. */
export const DEFAULT_CLOSE_TIMEOUT_MILLIS = 5_000

/** Default largest binary message `ByteChannel` writes; larger writes are split. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024

/** Default receive queue bound, in messages: the transport is paused when it is reached. */
export const DEFAULT_RECEIVE_HIGH_WATER_MESSAGES = 64

/** Default receive queue bound, in bytes: the transport is paused when it is reached. */
export const DEFAULT_RECEIVE_HIGH_WATER_BYTES = 4 * 1024 * 1024

/** Default send bound, in bytes buffered by the transport, above which `send` waits. */
export const DEFAULT_SEND_HIGH_WATER_BYTES = 1024 * 1024

/** Default bound of a memory pair's per-direction queue, in messages. */
export const DEFAULT_MEMORY_CAPACITY = 16

/** Events kept for a slow `events` subscriber before the oldest are dropped. */
export const EVENTS_BUFFER = 256

/** Default bound of a `Hub` subscriber's buffer, in messages. */
export const DEFAULT_HUB_BUFFER_SIZE = 1024

/** Largest chunk a `Hub` subscription's stream emits at once. */
export const HUB_MAX_CHUNK = 256
