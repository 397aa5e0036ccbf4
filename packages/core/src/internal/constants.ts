/**
 * Every limit and default of the core package, in one place (as `ws` keeps them).
 *
 * @internal
 */

/* Close codes and the reason bound live in the public CloseCode module. */

/** Default time the close handshake may take before the transport is dropped. */
export const DEFAULT_CLOSE_TIMEOUT_MILLIS = 5_000

/** Default largest binary message `ByteChannel` writes; larger writes are split. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024

/** Default receive queue bound, in messages: the transport is paused when it is reached. */
export const DEFAULT_RECEIVE_HIGH_WATER_MESSAGES = 64

/** Default receive queue bound, in bytes: the transport is paused when it is reached. */
export const DEFAULT_RECEIVE_HIGH_WATER_BYTES = 4 * 1024 * 1024

/** Default fraction of the receive bounds at which a paused transport is resumed. */
export const DEFAULT_RECEIVE_RESUME_RATIO = 0.5

/**
 * Default time a send may wait with no progress at all (the transport's send buffer not
 * drained by a single byte) before the connection is closed with 1008: a peer that reads
 * nothing. Generous: a slow reader that drains, however slowly, is never dropped.
 */
export const DEFAULT_SEND_STALL_TIMEOUT_MILLIS = 60_000

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

/** Reconnect's default schedule: exponential from this delay... */
export const RECONNECT_DEFAULT_BACKOFF_BASE = "500 millis"

/** ...multiplied by this factor at each attempt... */
export const RECONNECT_DEFAULT_BACKOFF_FACTOR = 2

/** ...capped at this delay, then fully jittered (a random fraction of it). */
export const RECONNECT_DEFAULT_BACKOFF_CAP = "30 seconds"

/** Default time a session must stay up to reset Reconnect's attempt counter and backoff. */
export const RECONNECT_DEFAULT_MIN_UPTIME = "5 seconds"

/** Default bound of `Reconnect.framed`'s outbox, in messages. */
export const RECONNECT_DEFAULT_OUTBOX_SIZE = 1024

/** Default bound of `Reconnect.framed`'s inbox (messages received, not yet read). */
export const RECONNECT_DEFAULT_INBOX_SIZE = 256

/**
 * Largest run of messages `EffectSocket.fromSocket` hands to an `effect/socket` writer at once:
 * what each run took leaves the send buffer as it is taken, so a slow reader shows progress.
 */
export const EFFECT_SOCKET_WRITE_BATCH_BYTES = 64 * 1024

/** Largest delay one `setTimeout` takes (2^31 - 1 ms); a longer deadline re-arms its timer. */
export const MAX_TIMER_MILLIS = 2_147_483_647

/** WHATWG WebSocket: default time the opening handshake may take (as every connector's). */
export const DEFAULT_OPEN_TIMEOUT_MILLIS = 10_000

/** WHATWG WebSocket (cannot pause): bytes unread before the connection is closed with ReceiveOverflow (1009). */
export const WEBSOCKET_DEFAULT_RECEIVE_LIMIT_BYTES = 8 * 1024 * 1024

/** WHATWG WebSocket (cannot pause): messages unread before the connection is closed with ReceiveOverflow (1009). */
export const WEBSOCKET_DEFAULT_RECEIVE_LIMIT_MESSAGES = 1024

/**
 * WHATWG WebSocket: first and largest interval of the bufferedAmount poll (it has no drain event); a larger cap
 * idles the socket (pnpm bench). No poll timer is set inside another timer, where browsers/Deno clamp it to 4 ms.
 */
export const WEBSOCKET_DRAIN_POLL_FIRST_MILLIS = 1
export const WEBSOCKET_DRAIN_POLL_MAX_MILLIS = 8

/**
 * WHATWG WebSocket: period of the one sweep that finds sockets the runtime has been closing (a peer's close frame
 * came) for `closeTimeout` with no close event (the peer holds TCP; Node's and Bun's wait for ever): they are dropped.
 */
export const WEBSOCKET_CLOSING_SWEEP_MILLIS = 500

/** The receive queue's first ring size, and the size above which a drained ring is given back (both powers of two). */
export const INBOX_INITIAL_SLOTS = 4
export const INBOX_SHRINK_ABOVE_SLOTS = 64
