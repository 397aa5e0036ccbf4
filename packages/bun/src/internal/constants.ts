/**
 * Every limit and default of the Bun package, in one place.
 *
 * @internal
 */

/** Default host the server binds to: loopback, never all interfaces by accident. */
export const DEFAULT_HOST = "127.0.0.1"

/** Default largest message accepted (Bun's `maxPayloadLength`); a larger one closes with 1009. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024

/**
 * Bun's own per-socket send limit (`backpressureLimit`): 0 is none. The engine bounds what it
 * hands over by `sendHighWaterMark`; Bun's limit would instead drop what is sent past it (`send`
 * returns 0), a close frame included. Bun's own pongs stay bounded without it (measured on Bun
 * 1.4.5: a client that floods pings and reads none is held at about 16 MiB of pongs).
 */
export const BUN_BACKPRESSURE_LIMIT = 0

/**
 * Bun's idle timeout of upgraded sockets (`websocket.idleTimeout`): 0 is off, and so are Bun's own
 * pings. Liveness is `pingInterval` / `pongTimeout`, the same on every runtime.
 */
export const BUN_WEBSOCKET_IDLE_TIMEOUT = 0
