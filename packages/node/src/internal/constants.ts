/**
 * Every limit and default of the Node package, in one place.
 *
 * @internal
 */

/** Default time the opening handshake may take. */
export const DEFAULT_OPEN_TIMEOUT_MILLIS = 10_000

/** Default largest message accepted (ws's own default is 100 MiB). */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024

/** Default host servers bind to: loopback, never all interfaces by accident. */
export const DEFAULT_HOST = "127.0.0.1"

/** Close code a server sends to a connection over `maxConnections`. */
export const CLOSE_TRY_AGAIN_LATER = 1013

/** Close code for a message over `maxPayload`. */
export const CLOSE_MESSAGE_TOO_BIG = 1009
