/**
 * Incremental, bounded codecs between byte streams and typed frames: lines, length-delimited
 * (tokio-util semantics), varint-delimited (protobuf / libp2p), JSON and NDJSON checked by an
 * Effect `Schema`. `decode` and `encode` are plain `Stream` combinators, usable with no socket
 * (a file, stdin, an HTTP body).
 *
 * What every codec guarantees, whatever the input (and checked by property tests):
 * - any bytes give frames, or `FrameTooLarge` / `DecodeError` after the frames before the bad
 *   one: never a throw, a defect or a hang;
 * - every way of splitting the same bytes into chunks gives the same frames and the same error
 *   (except `bytes`, whose frames are the chunks);
 * - a decoder holds at most its bound of bytes across chunks (lines: `maxLength`; length-prefixed:
 *   the frame being filled), copied compactly and allocated as they arrive;
 * - what an encoder accepts, its decoder gives back; what would not come back (a line with its
 *   delimiter, a number JSON cannot carry, a length over the bound) is refused with a typed error.
 *
 * Options outside their documented ranges throw a `RangeError` when the codec is built.
 *
 * @since 0.1.0
 */
import type * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type * as jsonCodec from "./internal/codec/json.js"
import type * as lengthDelimitedCodec from "./internal/codec/lengthDelimited.js"
import type * as linesCodec from "./internal/codec/lines.js"
import type * as varintCodec from "./internal/codec/varintDelimited.js"
import type { CodecError } from "./CodecError.js"
import * as internal from "./internal/codec.js"

/**
 * A stateful, incremental decoder. Plain TypeScript: no Effect per byte or per frame.
 *
 * @since 0.1.0
 * @category models
 */
export interface Decoder<A> {
  /**
   * Decodes what `chunk` completes and pushes the frames to `out`. Returns an error to stop;
   * after an error the decoder stays failed. Frames may be views into `chunk`; bytes kept
   * across calls are copied.
   */
  decode(chunk: Uint8Array, out: Array<A>): CodecError | undefined
  /** End of input: pushes a final frame (a tail line) or reports a truncated frame. */
  end(out: Array<A>): CodecError | undefined
}

/**
 * An incremental decoder over byte chunks and a one-frame encoder.
 *
 * @since 0.1.0
 * @category models
 */
export interface Codec<A> {
  /** A short name for diagnostics: `lines`, `lengthDelimited`, `ndjson`, ... */
  readonly name: string
  /** A fresh decoder, one per stream. */
  readonly decoder: () => Decoder<A>
  /** One value as the bytes of one frame (prefix and payload together). */
  readonly encode: (value: A) => Result.Result<Uint8Array, CodecError>
}

/**
 * @since 0.1.0
 * @category models
 */
export type LinesOptions = linesCodec.LinesOptions

/**
 * @since 0.1.0
 * @category models
 */
export type LengthDelimitedOptions = lengthDelimitedCodec.LengthDelimitedOptions

/**
 * @since 0.1.0
 * @category models
 */
export type VarintDelimitedOptions = varintCodec.VarintDelimitedOptions

/**
 * @since 0.1.0
 * @category models
 */
export interface JsonOptions {
  /** The codec that cuts the byte stream into one frame per JSON value. Default `lengthDelimited()`. */
  readonly framing?: Codec<Uint8Array> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type NdjsonOptions = jsonCodec.NdjsonOptions

/**
 * Lines split on `\n` (one trailing `\r` stripped; a `\r` and `\n` in different chunks are one
 * break), strict UTF-8, at most `maxLength` bytes as received (default 1 MiB) — a longer line
 * fails with `FrameTooLarge` without being buffered, whether it came in one chunk or many. The
 * unterminated tail at end of input is a line. Errors count lines (`unit: "line"`). Encoding
 * appends `\n` and refuses a line containing it, ending in `\r` (with `crlf`) or holding a lone
 * surrogate.
 *
 * @example
 * ```ts
 * import { Codec } from "@bytechannel/core"
 * import { Stream } from "effect"
 *
 * // "first", "second", "third": a line and a "\r\n" may be split anywhere across chunks.
 * const lines = Stream.make("first\r", "\nsec", "ond\nthird").pipe(
 *   Stream.encodeText,
 *   Codec.decode(Codec.lines({ maxLength: 64 * 1024 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const lines: (options?: LinesOptions) => Codec<string> = internal.lines

/**
 * Length-prefixed frames with tokio-util `LengthDelimitedCodec` semantics (default: 4-byte
 * big-endian length, at most 8 MiB). End of input inside a frame is a `DecodeError`
 * ("bytes remaining on stream"). `maxFrameLength` bounds the length field on both sides (the
 * encoder too, so what one side writes the other accepts). A frame always takes at least one byte:
 * with `numSkip: 0` an empty frame, which tokio would repeat forever, is a `DecodeError`
 * (`InvalidLength`) — the options themselves are valid (tokio's "length includes the head").
 *
 * @example
 * ```ts
 * import { Codec } from "@bytechannel/core"
 *
 * // A 2-byte little-endian length, then the payload.
 * const codec = Codec.lengthDelimited({ lengthFieldLength: 2, endian: "little", maxFrameLength: 4096 })
 * const frames = Codec.decodeAll(codec, [new Uint8Array([3, 0, 1, 2]), new Uint8Array([3])])
 * // Result.succeed([Uint8Array [1, 2, 3]])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const lengthDelimited: (options?: LengthDelimitedOptions) => Codec<Uint8Array> = internal.lengthDelimited

/**
 * Frames prefixed by an unsigned LEB128 varint length, wire compatible with
 * `it-length-prefixed`. A prefix longer than 10 bytes is a `DecodeError`.
 *
 * @example
 * ```ts
 * import { Codec } from "@bytechannel/core"
 * import { Stream } from "effect"
 *
 * // Wire-compatible with it-length-prefixed: Uint8Array [7, 7], then Uint8Array [9].
 * const frames = Stream.make(new Uint8Array([2, 7, 7, 1, 9])).pipe(Codec.decode(Codec.varintDelimited()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const varintDelimited: (options?: VarintDelimitedOptions) => Codec<Uint8Array> = internal.varintDelimited

/**
 * JSON values checked by `schema`, one per frame of `framing` (default `lengthDelimited()`). The
 * encoder refuses values JSON would change (NaN, ±Infinity, an array element with no JSON form);
 * `-0` is written as `0`, JSON's only zero, and a value with `toJSON` (a `Date` under
 * `Schema.Unknown`) as what `toJSON` gives: use a transforming schema (`Schema.DateFromString`) for those.
 *
 * @example
 * ```ts
 * import { ByteChannel, Codec } from "@bytechannel/core"
 * import { Schema } from "effect"
 *
 * const Move = Schema.Struct({ x: Schema.Number, y: Schema.Number })
 *
 * // One JSON value per varint-delimited frame (the default framing is lengthDelimited()).
 * const moves = (channel: ByteChannel.ByteChannel) =>
 *   ByteChannel.framed(channel, Codec.json(Move, { framing: Codec.varintDelimited() }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const json: <A, I>(schema: Schema.Codec<A, I>, options?: JsonOptions) => Codec<A> = internal.json

/**
 * Newline-delimited JSON checked by `schema`. Blank lines — blank as `String.prototype.trim` has it,
 * so a line of U+00A0 or U+FEFF too — are skipped by default (they still count for line numbers,
 * which errors give with `unit: "line"`); the encoder always ends a value with `\n`. A value the
 * schema refuses is a `DecodeError` with `reason: "Schema"` whose `cause` is the `SchemaIssue.Issue`.
 *
 * @example
 * ```ts
 * import { Codec } from "@bytechannel/core"
 * import { Schema, Stream } from "effect"
 *
 * const Event = Schema.Struct({ type: Schema.Literals(["join", "leave"]), user: Schema.String })
 *
 * // A line that is not an Event fails the stream with a DecodeError naming its line number.
 * const events = Stream.make("{\"type\":\"join\",\"user\":\"ann\"}\n\n{\"type\":\"leave\",\"user\":\"ann\"}\n").pipe(
 *   Stream.encodeText,
 *   Codec.decode(Codec.ndjson(Event))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const ndjson: <A, I>(schema: Schema.Codec<A, I>, options?: NdjsonOptions) => Codec<A> = internal.ndjson

/**
 * The identity codec: every chunk is a frame (so the frames depend on the chunking; their bytes
 * do not).
 *
 * @since 0.1.0
 * @category constructors
 */
export const bytes: Codec<Uint8Array> = internal.bytes

/**
 * Decodes a byte stream into frames. Fails with the codec's error at the first bad frame,
 * after emitting every frame before it.
 *
 * @example
 * ```ts
 * import { Codec } from "@bytechannel/core"
 * import { Stream } from "effect"
 * import { createReadStream } from "node:fs"
 *
 * // Any byte stream, no socket: the lines of a file.
 * const lineCount = Stream.fromAsyncIterable<Uint8Array, Error>(createReadStream("access.log"), (e) => e as Error).pipe(
 *   Codec.decode(Codec.lines()),
 *   Stream.runCount
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const decode: {
  <A>(codec: Codec<A>): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<A, E | CodecError, R>
  <A, E, R>(self: Stream.Stream<Uint8Array, E, R>, codec: Codec<A>): Stream.Stream<A, E | CodecError, R>
} = internal.decode

/**
 * Encodes frames into a byte stream, one `Uint8Array` per frame. A value the codec refuses fails
 * the stream with its error (`EncodeError` or `FrameTooLarge`), after the frames before it.
 *
 * @example
 * ```ts
 * import { Codec } from "@bytechannel/core"
 * import { Stream } from "effect"
 *
 * // One Uint8Array per frame: "a\n", then "b\n".
 * const bytes = Stream.make("a", "b").pipe(Codec.encode(Codec.lines()))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const encode: {
  <A>(codec: Codec<A>): <E, R>(self: Stream.Stream<A, E, R>) => Stream.Stream<Uint8Array, E | CodecError, R>
  <A, E, R>(self: Stream.Stream<A, E, R>, codec: Codec<A>): Stream.Stream<Uint8Array, E | CodecError, R>
} = internal.encode

/**
 * Decodes a whole byte array (for tests and one-shot use).
 *
 * @since 0.1.0
 * @category utils
 */
export const decodeAll: <A>(codec: Codec<A>, chunks: Iterable<Uint8Array>) => Result.Result<Array<A>, CodecError> =
  internal.decodeAll
