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

/**
 * Most bytes a length-prefixed decoder allocates for a frame before its bytes arrive: 64 KiB. A
 * longer frame's buffer grows (doubling, never past the announced length) as its bytes come, so a
 * peer announcing a large frame costs at most this much until it sends it.
 */
export const MAX_UPFRONT_FRAME_ALLOCATION = 64 * 1024

/** First allocation for the bytes of a line that spans chunks: 256 bytes, doubling from there. */
export const INITIAL_PENDING_CAPACITY = 256

/**
 * A buffer for bytes held across chunks that grew beyond this (64 KiB) is dropped once its line is
 * complete, so one long line does not pin its memory for the life of the decoder.
 */
export const MAX_RETAINED_CAPACITY = 64 * 1024

/** Largest head (`lengthFieldOffset` + `lengthFieldLength`, or `numSkip`) of `lengthDelimited`: 64 KiB. */
export const MAX_HEAD_LENGTH = 64 * 1024
