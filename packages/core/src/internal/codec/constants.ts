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
 * frame up to this size gets its exact buffer at once; a longer one starts in a staging buffer of
 * this size (one per decoder, reused).
 */
export const MAX_UPFRONT_FRAME_ALLOCATION = 64 * 1024

/**
 * Past the staging buffer, a frame's buffer is at most this many times the bytes received for it
 * (never past its announced length): a frame of up to 1 MiB is then allocated once, exactly, and a
 * peer announcing a large frame makes the decoder hold at most 16 times what it sent (doubling
 * instead costs 2-3x the decode time of 128 KiB - 1 MiB frames, in allocations).
 */
export const FRAME_GROWTH_RATIO = 16

/** First allocation for the bytes of a line that spans chunks: 256 bytes, doubling from there. */
export const INITIAL_PENDING_CAPACITY = 256

/**
 * A buffer for bytes held across chunks that grew beyond this (64 KiB) is dropped once its line is
 * complete, so one long line does not pin its memory for the life of the decoder.
 */
export const MAX_RETAINED_CAPACITY = 64 * 1024

/** Largest head (`lengthFieldOffset` + `lengthFieldLength`, or `numSkip`) of `lengthDelimited`: 64 KiB. */
export const MAX_HEAD_LENGTH = 64 * 1024

/**
 * Most characters of complete lines `ndjson` parses with one `JSON.parse` (1 Mi): the batch is a
 * second string about as long as the lines, so longer runs of lines are parsed one by one.
 */
export const MAX_NDJSON_BATCH_LENGTH = 1024 * 1024
