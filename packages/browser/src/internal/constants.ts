/**
 * Every limit and default of the browser package, in one place.
 *
 * @internal
 */

/** WebSocket strategy: `send` waits while `bufferedAmount` is at or above this (as the engine's default). */
export const DEFAULT_SEND_HIGH_WATER_BYTES = 1024 * 1024

/** Default time the opening handshake may take. */
export const DEFAULT_OPEN_TIMEOUT_MILLIS = 10_000

/** WebSocket strategy: bytes unread before the connection is closed with ReceiveOverflow. */
export const DEFAULT_RECEIVE_LIMIT_BYTES = 8 * 1024 * 1024

/** WebSocket strategy: messages unread before the connection is closed with ReceiveOverflow. */
export const DEFAULT_RECEIVE_LIMIT_MESSAGES = 1024

/**
 * WebSocket strategy: first and largest interval of the bufferedAmount poll (a larger cap idles the
 * socket: measured in `pnpm bench`). Both are honoured: no poll timer is set inside another timer,
 * where browsers clamp it to 4 ms.
 */
export const DRAIN_POLL_FIRST_MILLIS = 1
export const DRAIN_POLL_MAX_MILLIS = 8
