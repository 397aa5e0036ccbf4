/**
 * Every codec limit and default, in one place.
 *
 * @internal
 */

/** Longest line `lines` and `ndjson` accept by default: 1 MiB. */
export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024

/** Largest frame the length-prefixed codecs accept by default: 8 MiB (tokio-util's default). */
export const DEFAULT_MAX_FRAME_LENGTH = 8 * 1024 * 1024

/** An unsigned LEB128 varint for a length up to 2^53 − 1 needs at most 8 bytes; 10 covers any u64. */
export const MAX_VARINT_BYTES = 10
