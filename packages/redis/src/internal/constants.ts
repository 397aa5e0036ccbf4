/**
 * Every limit and default of the Redis package, in one place (as `ws` keeps them).
 *
 * @internal
 */

/** Prefix of the Redis stream key of each topic. */
export const DEFAULT_KEY_PREFIX = "bytechannel:hub:"

/** Entries kept per topic stream (`XADD ... MAXLEN ~`): how far behind a reader may fall. */
export const DEFAULT_MAX_LEN = 10_000

/**
 * How long a topic's stream outlives its last publish (`PEXPIRE`, refreshed with every `XADD`):
 * an idle topic's stream is deleted, so Redis holds only topics in use. How long a reader may be
 * away from a topic nobody publishes on and still read what it missed.
 */
export const DEFAULT_IDLE_TIME_TO_LIVE_MILLIS = 60 * 60 * 1000

/**
 * Each process's wake stream, `<keyPrefix>~wake:<nodeId>`: its reader's `XREAD` always includes
 * it, and an entry added there wakes that reader when a topic is added (an entry cannot be lost
 * the way a `CLIENT UNBLOCK` sent before the `XREAD` arrived is). One entry (`MAXLEN 1`).
 */
export const WAKE_KEY_INFIX = "~wake:"

/** How long a process's wake stream outlives its last wake-up. */
export const WAKE_KEY_TIME_TO_LIVE_MILLIS = 60_000

/** Messages waiting for Redis in one process (while it is unreachable); beyond, the oldest are dropped. */
export const DEFAULT_OUTBOX_SIZE = 10_000

/** Messages Redis acknowledged that a process keeps, to add again after a Redis restart. */
export const DEFAULT_REPLAY_SIZE = 1_000

/** Entries asked for by one `XREAD`. */
export const DEFAULT_READ_COUNT = 512

/** Entries sent in one pipeline of `XADD`s. */
export const WRITE_BATCH = 256

/** How long one `XREAD` blocks on the server before it is asked again. */
export const DEFAULT_BLOCK_MILLIS = 5_000

/** Deadline of one command (beyond its blocking time for `XREAD`); a late reply drops the connection. */
export const DEFAULT_COMMAND_TIMEOUT_MILLIS = 5_000

/**
 * Deadline of a connection's opening, the whole of it: TCP, the handshake (`CLIENT SETNAME`...)
 * and Redis's ready check. Past it the connection is dropped and the reconnect schedule decides.
 */
export const DEFAULT_CONNECT_TIMEOUT_MILLIS = 5_000

/** First delay between attempts to reach Redis again (doubling, with jitter). */
export const RECONNECT_BASE_MILLIS = 100

/** Longest delay between attempts to reach Redis again. */
export const RECONNECT_MAX_MILLIS = 2_000

/** Publishers remembered per topic for duplicate detection; the least recently heard is forgotten first. */
export const MAX_TRACKED_PUBLISHERS = 4_096
