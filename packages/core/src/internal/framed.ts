import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import type * as ByteChannel from "../ByteChannel.js"
import type { Codec } from "../Codec.js"
import type { CodecError } from "../CodecError.js"
import type * as Framed from "../Framed.js"
import type { SocketError } from "../SocketError.js"
import * as CloseCode from "../CloseCode.js"
import { sendAll } from "./byteChannel.js"
import { toError, toPlain } from "./codec.js"
import { isFailure } from "./codec/types.js"
import type { Failure } from "./codec/types.js"

/**
 * Packs `frames` into messages of up to `limit` bytes (a frame larger than that is one message
 * of its own), in order.
 */
const coalesceFrames = (frames: ReadonlyArray<Uint8Array>, limit: number): Array<Uint8Array> => {
  const messages: Array<Uint8Array> = []
  let first = 0
  let size = 0
  const flush = (end: number) => {
    if (end - first === 1) messages.push(frames[first]!)
    else if (end - first > 1) {
      const joined = new Uint8Array(size)
      let offset = 0
      for (let i = first; i < end; i++) {
        joined.set(frames[i]!, offset)
        offset += frames[i]!.length
      }
      messages.push(joined)
    }
    first = end
    size = 0
  }
  for (let i = 0; i < frames.length; i++) {
    if (size + frames[i]!.length > limit) flush(i)
    size += frames[i]!.length
  }
  flush(frames.length)
  return messages
}

/** @internal */
export const make = <A>(
  channel: ByteChannel.ByteChannel,
  codec: Codec<A>,
  options?: Framed.FramedOptions
): Framed.Framed<A> => {
  const plain = toPlain(codec)
  const decoder = plain.decoder()
  // Frames decoded but not yet handed out: kept here so a consumer that stops early loses none.
  let ready: Array<A> = []
  let head = 0
  let done = false
  let pendingError: Failure | undefined

  const fill: Effect.Effect<boolean, ByteChannel.ReadError | CodecError> = Effect.flatMap(
    channel.readChunk(),
    (next): Effect.Effect<boolean, ByteChannel.ReadError | CodecError> => {
      ready = []
      head = 0
      if (Option.isNone(next)) {
        done = true
        const failure = decoder.end(ready)
        return failure ? failWith(failure) : Effect.succeed(ready.length > 0)
      }
      // Frames before a bad one are still delivered; the error follows them.
      pendingError = decoder.decode(next.value, ready)
      return Effect.succeed(ready.length > 0)
    }
  )

  // Bad frames from the peer: the stream is out of step from there on, so the connection is
  // closed (1009 for a frame over the bound, 1007 for one that does not decode) before failing.
  // The decoder answers the same failure again, so it becomes one error, built once.
  let closedForError = false
  let failed: { readonly failure: Failure; readonly error: CodecError } | undefined
  const failWith = (failure: Failure) =>
    Effect.suspend(() => {
      if (failed?.failure !== failure) failed = { failure, error: toError(failure) }
      const error = failed.error
      if (closedForError) return Effect.fail(error)
      closedForError = true
      return channel.socket.closeWithProtocolCode({
        code: error._tag === "FrameTooLarge" ? CloseCode.MessageTooBig : CloseCode.InvalidPayload,
        reason: error._tag === "FrameTooLarge" ? "frame too large" : "invalid frame"
      }).pipe(Effect.ignore, Effect.andThen(Effect.fail(error)))
    })

  const nextFrame: Effect.Effect<Option.Option<A>, ByteChannel.ReadError | CodecError> = Effect.suspend(() => {
    if (head < ready.length) {
      const value = ready[head]!
      ready[head++] = undefined as any
      return Effect.succeed(Option.some(value))
    }
    if (pendingError) return failWith(pendingError)
    if (done) return Effect.succeedNone
    return Effect.andThen(fill, nextFrame)
  })

  // All frames ready at once, as one chunk: the stream machinery costs per chunk, not per frame.
  const nextChunk: Effect.Effect<
    readonly [A, ...Array<A>],
    ByteChannel.ReadError | CodecError | Cause.Done
  > = Effect.suspend(() => {
    if (head < ready.length) {
      const chunk = (head === 0 ? ready : ready.slice(head)) as unknown as readonly [A, ...Array<A>]
      ready = []
      head = 0
      return Effect.succeed(chunk)
    }
    if (pendingError) return failWith(pendingError)
    if (done) return Cause.done()
    return Effect.andThen(fill, nextChunk)
  })

  const messages: Stream.Stream<A, ByteChannel.ReadError | CodecError> = Stream.fromPull(Effect.succeed(nextChunk))

  const send = (value: A): Effect.Effect<void, SocketError | CodecError> => {
    const frame = plain.encode(value)
    return isFailure(frame) ? Effect.fail(toError(frame)) : channel.send(frame)
  }

  // One way to write: the frames of a chunk are encoded in one loop and handed to the channel in
  // one batched write, as `ByteChannel.write` writes a chunk. A value that does not encode fails
  // the sink after the frames before it are written; with `coalesce`, before any of its chunk is.
  const coalesce = options?.coalesce
  const sink: Sink.Sink<void, A, never, SocketError | CodecError> = Sink.forEachArray((chunk: ReadonlyArray<A>) =>
    Effect.suspend((): Effect.Effect<void, SocketError | CodecError> => {
      const frames: Array<Uint8Array> = []
      let failure: Failure | undefined
      for (const value of chunk) {
        const frame = plain.encode(value)
        if (isFailure(frame)) {
          failure = frame
          break
        }
        frames.push(frame)
      }
      if (coalesce !== undefined) {
        return failure ? Effect.fail(toError(failure)) : sendAll(channel, coalesceFrames(frames, coalesce))
      }
      if (failure === undefined) return sendAll(channel, frames)
      const error = toError(failure)
      return frames.length === 0 ? Effect.fail(error) : Effect.andThen(sendAll(channel, frames), Effect.fail(error))
    })
  )

  return {
    channel,
    messages,
    next: nextFrame,
    send,
    sink,
    close: channel.close,
    closed: channel.closed
  }
}
