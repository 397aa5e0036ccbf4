/**
 * Every limit and default of the Deno package, in one place (as `ws` keeps them).
 *
 * @internal
 */

/** Default interface the server listens on. */
export const DEFAULT_HOST = "127.0.0.1"

/** Default largest message accepted; a larger one closes the connection with 1009 (as on Node). */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024

/**
 * Deno's own bound on a received message (its WebSocket stops reading, reports "Frame too large"
 * and drops the connection without a close frame). A `maxPayload` above it cannot be honoured.
 */
export const DENO_MAX_MESSAGE_SIZE = 64 * 1024 * 1024

/** Default time from the upgrade request to the open connection; a slower one is dropped. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 10_000

/** Core's default `closeTimeout`: how long a socket abandoned mid-upgrade may take to answer our close. */
export const DEFAULT_CLOSE_TIMEOUT_MILLIS = 5_000

/**
 * Core's default `sendStallTimeout`; with keepalive on, a shorter keepalive window (ping
 * interval + pong timeout) is the stall timeout instead (Deno's ping waits behind unsent data).
 */
export const DEFAULT_SEND_STALL_TIMEOUT_MILLIS = 60_000

/** Largest delay `setTimeout` takes (2^31 - 1 ms); longer timeouts are capped to it. */
export const MAX_TIMER_MILLIS = 2_147_483_647

/** What plain HTTP requests get: 426 Upgrade Required, with this body. */
export const UPGRADE_REQUIRED_BODY = "This endpoint speaks WebSocket.\n"
