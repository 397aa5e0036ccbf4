/**
 * Typed messages over a `ByteChannel`, made by `ByteChannel.framed(channel, codec)`: `messages`
 * decodes the bytes read with a codec, `send` and `sink` encode values and write each frame as one
 * message (never a prefix and its payload as two messages), optionally coalescing small frames up
 * to a size. `sink` encodes each chunk of values in one loop and writes its frames in one batched
 * write, as `ByteChannel.write` writes a chunk.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Sink from "effect/Sink"
import type * as Stream from "effect/Stream"
import type * as ByteChannel from "./ByteChannel.js"
import type { Codec } from "./Codec.js"
import type { CodecError } from "./CodecError.js"
import * as internal from "./internal/framed.js"
import type { CloseInfo, CloseOptions } from "./MessageSocket.js"
import type { CloseArgumentError, SocketError } from "./SocketError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Framed<A> {
  readonly channel: ByteChannel.ByteChannel
  /**
   * The decoded messages. Every frame decoded from one received message is emitted as one
   * chunk, which is what makes it fast; so a consumer that stops in the middle of a chunk
   * (`Stream.take(n)`) discards the rest of that chunk. To take an exact number of messages and
   * keep the following ones, use `next`. A frame that does not decode fails the stream after the
   * good ones and closes the connection (1009 for a frame over the bound, 1007 otherwise).
   */
  readonly messages: Stream.Stream<A, ByteChannel.ReadError | CodecError>
  /**
   * The next message, `None` at the end; nothing after it is consumed, so it can be mixed with
   * later reads of `next` or `messages`.
   */
  readonly next: Effect.Effect<Option.Option<A>, ByteChannel.ReadError | CodecError>
  /** Encodes `value` and writes it as one message. */
  readonly send: (value: A) => Effect.Effect<void, SocketError | CodecError>
  /**
   * Writes every value: the frames of one chunk in one batched write, each frame one message (with
   * `coalesce`, the frames of one chunk share messages up to that size). A value that does not
   * encode fails the sink after the frames before it are written (with `coalesce`, before any frame
   * of its chunk is).
   */
  readonly sink: Sink.Sink<void, A, never, SocketError | CodecError>
  readonly close: (options?: CloseOptions) => Effect.Effect<CloseInfo, CloseArgumentError>
  readonly closed: Effect.Effect<CloseInfo>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FramedOptions {
  /**
   * Frames written together (one chunk given to `sink`) are packed into messages of up to this
   * many bytes instead of one message each. A frame larger than it is still one message.
   * Default: no coalescing.
   */
  readonly coalesce?: number | undefined
}

/**
 * The same as `ByteChannel.framed`, the one way to frame a channel.
 *
 * @deprecated Use `ByteChannel.framed(channel, codec, options)`.
 * @since 0.1.0
 * @category constructors
 */
export const make: <A>(channel: ByteChannel.ByteChannel, codec: Codec<A>, options?: FramedOptions) => Framed<A> =
  internal.make
