import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import type * as ByteChannel from "../ByteChannel.js"
import * as Connector from "../Connector.js"
import type * as MessageSocket from "../MessageSocket.js"
import { ProtocolError, SocketError } from "../SocketError.js"
import * as CloseCode from "../CloseCode.js"
import * as constants from "./constants.js"
import { fastOf } from "./messageSocket.js"

/** @internal */
export const TypeId: typeof ByteChannel.TypeId = Symbol.for("@bytechannel/core/ByteChannel") as any

/** What a channel does when a WHATWG or async-iterator reader goes away (cancel, `break`). @internal */
const AbandonRead = Symbol.for("@bytechannel/core/ByteChannel/abandonRead")

/** The batched write behind `write`, for `Framed`'s sink. @internal */
const SendAll = Symbol.for("@bytechannel/core/ByteChannel/sendAll")

interface Internal extends ByteChannel.ByteChannel {
  readonly [AbandonRead]: Effect.Effect<void>
  readonly [SendAll]: (messages: ReadonlyArray<Uint8Array>) => Effect.Effect<void, SocketError>
}

/**
 * Writes `messages` in order, each as one message, as `write` writes one chunk: in one batched
 * send. A channel made elsewhere (not by `fromSocket`) is given them as one chunk of its `write`.
 *
 * @internal
 */
export const sendAll = (self: ByteChannel.ByteChannel, messages: ReadonlyArray<Uint8Array>): Effect.Effect<void, SocketError> => {
  const batched = (self as Partial<Internal>)[SendAll]
  return batched !== undefined ? batched(messages) : Stream.run(Stream.fromChunk(Chunk.fromIterable(messages)), self.write)
}

/** @internal */
export const isByteChannel = (u: unknown): u is ByteChannel.ByteChannel => Predicate.hasProperty(u, TypeId)

const utf8 = new TextEncoder()

/** @internal */
export const fromSocket = (
  socket: MessageSocket.MessageSocket,
  options?: ByteChannel.ByteChannelOptions
): ByteChannel.ByteChannel => {
  const textPolicy = options?.text ?? "bytes"
  const maxMessageSize = options?.maxMessageSize ?? constants.DEFAULT_MAX_MESSAGE_SIZE
  if (!(maxMessageSize >= 1)) throw new RangeError(`maxMessageSize must be at least 1, got ${maxMessageSize}`)
  // Unset: the socket's own default applies (its transport may configure one).
  const closeTimeout = options?.closeTimeout === undefined ? undefined : Duration.decode(options.closeTimeout)
  const cleanCodes = new Set(options?.cleanCloseCodes ?? [CloseCode.Normal])
  cleanCodes.delete(CloseCode.Abnormal)

  // Bytes of a message that a bounded `readChunk` did not hand out yet.
  let leftover: Uint8Array | undefined

  const endOfInput: Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> = Effect.flatMap(
    socket.closed,
    (info) =>
      info.local || cleanCodes.has(info.code)
        ? Effect.succeedNone
        : Effect.fail(new SocketError({ reason: "Closed", code: info.code, closeReason: info.reason }))
  )

  const unexpectedText = Effect.zipRight(
    socket.closeWithProtocolCode({
      code: CloseCode.UnsupportedData,
      reason: "text messages are not accepted",
      timeout: closeTimeout
    }).pipe(Effect.ignore),
    // Built only if it happens: an error captures a stack trace, too dear for every channel.
    Effect.failSync(() => new ProtocolError({ reason: "UnexpectedText", detail: "a text message arrived under text: \"error\"" }))
  )

  // Effect reads are cancel-safe: an interrupted read loses nothing and leaves the channel open
  // (closing is the scope's job). Only a cancelled WHATWG or async-iterator reader closes it.
  const abandonRead: Effect.Effect<void> = socket.close({ timeout: closeTimeout }).pipe(Effect.ignore)
  const receive = socket.receive

  const onMessage = (value: MessageSocket.Message): Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> => {
    if (typeof value !== "string") return Effect.succeed(Option.some(value))
    switch (textPolicy) {
      case "bytes":
        return Effect.succeed(Option.some(utf8.encode(value)))
      case "ignore":
        return nextMessage
      case "error":
        return unexpectedText
    }
  }
  const receiveNext: Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> = Effect.flatMap(
    receive,
    (message) => Option.isNone(message) ? endOfInput : onMessage(message.value)
  )
  // On the engine's sockets a queued message is handed over without the Option and Effect of
  // `receive`, and a reader that waits resumes straight into the read (a third of the steps).
  const fast = fastOf(socket)
  // Woken: a message is queued, or the input ended or failed (which `receive` tells).
  const takeOrEnd: Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> = Effect.suspend(() => {
    const message = fast?.take()
    return message === undefined ? receiveNext : onMessage(message)
  })
  const waitThenTake = fast === undefined ? receiveNext : fast.whenReadable(takeOrEnd)
  const readNext = (): Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> => {
    if (fast === undefined) return receiveNext
    const message = fast.take()
    return message === undefined ? waitThenTake : onMessage(message)
  }
  const nextMessage = Effect.suspend(readNext)

  const readChunk = (maxBytes = Infinity): Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> => {
    if (!(maxBytes >= 1)) return Effect.dieMessage(`readChunk: maxBytes must be at least 1, got ${maxBytes}`)
    if (leftover !== undefined) {
      const bytes = leftover
      if (bytes.length > maxBytes) {
        leftover = bytes.subarray(maxBytes)
        return Effect.succeed(Option.some(bytes.subarray(0, maxBytes)))
      }
      leftover = undefined
      return Effect.succeed(Option.some(bytes))
    }
    if (maxBytes === Infinity) return nextMessage
    return Effect.map(nextMessage, (next) => {
      if (Option.isNone(next) || next.value.length <= maxBytes) return next
      leftover = next.value.subarray(maxBytes)
      return Option.some(next.value.subarray(0, maxBytes))
    })
  }

  // One element per pull, so a consumer that stops early never takes bytes it did not use. A
  // channel loop rather than `Stream.repeatEffectOption`: the same pulls at half the cost each.
  const readAll = Effect.suspend(() => leftover === undefined ? readNext() : readChunk())
  type ReadLoop = Channel.Channel<Chunk.Chunk<Uint8Array>, unknown, ByteChannel.ReadError, unknown, void, unknown>
  const emitThenRead = (next: Option.Option<Uint8Array>): ReadLoop =>
    Option.isNone(next) ? Channel.void : Channel.zipRight(Channel.write(Chunk.of(next.value)), readLoop)
  const readEffect: ReadLoop = Channel.flatMap(Channel.fromEffect(readAll), emitThenRead)
  // A binary message already queued is emitted without an Effect (a reader that keeps up with
  // a fast writer); anything else (a wait, text, the end, leftover bytes) goes through readAll.
  const readLoop: ReadLoop = fast === undefined ? readEffect : Channel.suspend(() => {
    if (leftover !== undefined) return readEffect
    const message = fast.take()
    if (message === undefined) return readEffect
    return typeof message === "string"
      ? Channel.flatMap(Channel.fromEffect(onMessage(message)), emitThenRead)
      : Channel.zipRight(Channel.write(Chunk.of(message)), readLoop)
  })
  const read: Stream.Stream<Uint8Array, ByteChannel.ReadError> = Stream.fromChannel(readLoop)

  const send = (bytes: Uint8Array): Effect.Effect<void, SocketError> => {
    if (bytes.length <= maxMessageSize) return socket.send(bytes)
    return Effect.suspend(() => {
      let offset = 0
      const next: Effect.Effect<void, SocketError> = Effect.suspend(() => {
        const end = Math.min(offset + maxMessageSize, bytes.length)
        const part = bytes.subarray(offset, end)
        offset = end
        return offset < bytes.length ? Effect.zipRight(socket.send(part), next) : socket.send(part)
      })
      return next
    })
  }

  // Every chunk in order, each as one message, in one batched send (`write`, and `Framed`'s sink).
  const fitsOneEach = (messages: ReadonlyArray<Uint8Array>): boolean => {
    for (let i = 0; i < messages.length; i++) if (messages[i]!.length > maxMessageSize) return false
    return true
  }
  // Rare: a write larger than maxMessageSize is split, message by message.
  const sendAll = (messages: ReadonlyArray<Uint8Array>): Effect.Effect<void, SocketError> =>
    fitsOneEach(messages) ? socket.sendAll(messages) : Effect.forEach(messages, send, { discard: true })

  // `Sink.forEachChunk(sendAll)`, except that on the engine's sockets a chunk the transport has
  // room for is written at once, with no Effect: only a wait (or a failure) runs one.
  const writeLoop: Channel.Channel<never, Chunk.Chunk<Uint8Array>, SocketError, never, void, unknown> = Channel
    .readWithCause({
      onInput: (chunk: Chunk.Chunk<Uint8Array>) => {
        const messages = Chunk.toReadonlyArray(chunk)
        if (fast === undefined || !fitsOneEach(messages)) return Channel.zipRight(Channel.fromEffect(sendAll(messages)), writeLoop)
        const sent = fast.sendNow(messages, 0)
        if (sent === messages.length) return writeLoop
        return Channel.zipRight(Channel.fromEffect(socket.sendAll(sent === 0 ? messages : messages.slice(sent))), writeLoop)
      },
      onFailure: Channel.failCause,
      onDone: () => Channel.void
    })
  const write: Sink.Sink<void, Uint8Array, never, SocketError> = Sink.fromChannel(writeLoop)

  const channel: Internal = {
    [TypeId]: TypeId,
    [AbandonRead]: abandonRead,
    [SendAll]: sendAll,
    socket,
    read,
    readChunk: (maxBytes?: number) => maxBytes === undefined ? readAll : Effect.suspend(() => readChunk(maxBytes)),
    write,
    send,
    close: (closeOptions) => socket.close({ timeout: closeTimeout, ...closeOptions }),
    closed: socket.closed,
    events: socket.events
  }
  return channel
}

/** @internal */
export const connect = (
  url: string | URL,
  options?: ByteChannel.ByteChannelOptions & Connector.ConnectOptions
) =>
  Effect.flatMap(Connector.connect(url, options), (socket) => {
    const channel = fromSocket(socket, options)
    // The scope's own list: `Effect.addFinalizer` would diff and patch every fiber ref.
    return Effect.scopeWith((scope) =>
      Effect.as(
        Scope.addFinalizer(scope, channel.close().pipe(Effect.catchAll(() => socket.terminate), Effect.uninterruptible)),
        channel
      )
    )
  })

// Rejects with the typed error itself (not a FiberFailure) so non-Effect callers can inspect `_tag`.
const runPromise = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromiseExit(effect).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  })

/** @internal */
export const toReadableStream = (
  self: ByteChannel.ByteChannel,
  options?: { readonly strategy?: QueuingStrategy<Uint8Array> | undefined }
): ReadableStream<Uint8Array> =>
  new ReadableStream<Uint8Array>({
    pull: (controller) =>
      runPromise(self.readChunk()).then((next) => {
        if (Option.isNone(next)) controller.close()
        else controller.enqueue(next.value)
      }),
    cancel: () => runPromise((self as Internal)[AbandonRead])
  }, options?.strategy ?? { highWaterMark: 0 })

/** @internal */
export const toAsyncIterable = (self: ByteChannel.ByteChannel): AsyncIterable<Uint8Array> => ({
  [Symbol.asyncIterator]: () => ({
    next: () =>
      runPromise(self.readChunk()).then((next): IteratorResult<Uint8Array> =>
        Option.isNone(next) ? { done: true, value: undefined } : { done: false, value: next.value }
      ),
    return: () => runPromise((self as Internal)[AbandonRead]).then(() => ({ done: true as const, value: undefined }))
  })
})

/** @internal */
export const toWritableStream = (self: ByteChannel.ByteChannel): WritableStream<Uint8Array> =>
  new WritableStream<Uint8Array>({
    write: (chunk) => runPromise(self.send(chunk)),
    close: () => runPromise(Effect.asVoid(self.close())),
    abort: () =>
      runPromise(Effect.asVoid(self.socket.closeWithProtocolCode({ code: CloseCode.InternalError, reason: "aborted" })))
  })
