/**
 * Every limit and default of the command line, in one place.
 *
 * @internal
 */

/** The version `--version` prints (kept equal to package.json by a test). */
export const VERSION = "1.0.0"

/** The name of the executable, in help and in the prefix of every line written to stderr. */
export const NAME = "bytechannel"

/** Default host `serve` binds to: loopback, never every interface by accident. */
export const DEFAULT_HOST = "127.0.0.1"

/**
 * Largest binary message sent (`ByteChannel`'s `maxMessageSize`): a longer frame is split into
 * several messages, as the library does (1 MiB, its default).
 */
export const MAX_MESSAGE_SIZE = 1024 * 1024

/** Largest message accepted from the peer when `--max-frame` does not ask for more (16 MiB, `ws`'s bound in the library). */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024

/** Bytes a received message may add to a frame's own bound: a length prefix (at most 10 bytes) and slack. */
export const FRAME_OVERHEAD = 64

/** `--help`'s width when stdout is not a terminal, and its widest on a wide terminal. */
export const HELP_WIDTH = 80
export const HELP_MAX_WIDTH = 100

/** How often `--stats` prints rates. */
export const STATS_INTERVAL_MILLIS = 1_000

/**
 * Messages `serve --broadcast` (and stdin in the default mode) holds for the slowest client
 * before a sender waits: nothing is dropped, memory is bounded.
 */
export const BROADCAST_CAPACITY = 256

/** After its connection ended, how long an `--exec` process may take to exit before it is killed (SIGTERM, then SIGKILL). */
export const EXEC_EXIT_GRACE_MILLIS = 2_000

/** The shell `--exec` runs its command with. */
export const EXEC_SHELL = "/bin/sh"

// Close codes and the longest close reason are core's `CloseCode` (`Normal`, the only code that
// exits with status 0; `InternalError`, sent when this side fails; `Abnormal`, a connection lost
// without a close frame; `MAX_REASON_BYTES`).

/** Exit statuses (see `--help`). */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_CLOSED = 3
export const EXIT_LOST = 4
/** 128 + the signal's number, as shells report a process ended by it. */
export const EXIT_SIGNAL: Readonly<Record<"SIGINT" | "SIGTERM", number>> = { SIGINT: 130, SIGTERM: 143 }
