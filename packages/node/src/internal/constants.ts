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

/** The engine's default close handshake timeout (core's), handed to ws's own close timer. */
export const DEFAULT_CLOSE_TIMEOUT_MILLIS = 5_000

/** Default time a server gives a client from its TCP connection to a completed upgrade. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 10_000

/**
 * Default length of a listening socket's accept queue (Node's own is 511). A burst of clients
 * (all reconnecting after a restart) waits there while the server is busy, where past the
 * queue the kernel drops their SYNs and they retry after 1 s, then 3 s, then 7 s. The kernel
 * caps it at `net.core.somaxconn`.
 */
export const DEFAULT_LISTEN_BACKLOG = 2048

/** Default number of connections a server holds before their upgrade completes; more are dropped at once. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 1024

/**
 * Pongs written but not yet flushed before a peer's pings count as a flood (1008). Write
 * callbacks always come later, so this is also the largest burst of pings answered in one read
 * (ws's own 60 takes an honest burst for a flood); at most ~130 KB of pongs are held.
 */
export const MAX_PENDING_PONGS = 1024


/**
 * The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days): longer ones, `Infinity`
 * included, are clamped to it (Node would fire them after 1 ms, or refuse them).
 */
export const MAX_TIMER_MILLIS = 2_147_483_647
