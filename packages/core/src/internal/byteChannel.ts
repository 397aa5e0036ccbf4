import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Pull from "effect/Pull"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import type * as ByteChannel from "../ByteChannel.js"
import * as CloseCode from "../CloseCode.js"
import * as Connector from "../Connector.js"
import type * as MessageSocket from "../MessageSocket.js"
import { ProtocolError, SocketError } from "../SocketError.js"
import * as constants from "./constants.js"

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
  return batched !== undefined ? batched(messages) : Stream.run(Stream.fromIterable(messages), self.write)
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
  const closeTimeout = options?.closeTimeout === undefined ? undefined : Duration.fromInputUnsafe(options.closeTimeout)
  const cleanCodes = new Set(options?.cleanCloseCodes ?? [CloseCode.Normal])
  cleanCodes.delete(CloseCode.Abnormal)

  // Bytes of a message that a bounded `readChunk` did not hand out yet.
  let leftover: Uint8Array | undefined

  // The reads below are pulls: the next bytes, or `Cause.Done` at the end of the input.
  type Read = Effect.Effect<Uint8Array, ByteChannel.ReadError | Cause.Done>

  const endOfInput: Read = Effect.flatMap(
    socket.closed,
    (info): Read =>
      info.local || cleanCodes.has(info.code)
        ? Cause.done()
        : Effect.fail(new SocketError({ reason: "Closed", code: info.code, closeReason: info.reason }))
  )

  const unexpectedText = Effect.andThen(
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

  const onMessage = (message: Option.Option<MessageSocket.Message>): Read => {
    if (message._tag === "None") return endOfInput
    const value = message.value
    if (typeof value !== "string") return Effect.succeed(value)
    switch (textPolicy) {
      case "bytes":
        return Effect.succeed(utf8.encode(value))
      case "ignore":
        return nextMessage
      case "error":
        return unexpectedText
    }
  }
  const nextMessage: Read = Effect.flatMap(socket.receive, onMessage)

  const pullChunk = (maxBytes: number): Read => {
    if (leftover !== undefined) {
      const bytes = leftover
      if (bytes.length > maxBytes) {
        leftover = bytes.subarray(maxBytes)
        return Effect.succeed(bytes.subarray(0, maxBytes))
      }
      leftover = undefined
      return Effect.succeed(bytes)
    }
    if (maxBytes === Infinity) return nextMessage
    return Effect.map(nextMessage, (next) => {
      if (next.length <= maxBytes) return next
      leftover = next.subarray(maxBytes)
      return next.subarray(0, maxBytes)
    })
  }
  const pullAll: Read = Effect.suspend(() => leftover === undefined ? nextMessage : pullChunk(Infinity))

  const toOption = (pull: Read): Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> =>
    Pull.catchDone(Effect.map(pull, Option.some), () => Effect.succeedNone)
  const readChunk = (maxBytes?: number): Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> => {
    if (maxBytes === undefined) return readAllOption
    if (!(maxBytes >= 1)) return Effect.die(new RangeError(`readChunk: maxBytes must be at least 1, got ${maxBytes}`))
    return toOption(Effect.suspend(() => pullChunk(maxBytes)))
  }
  const readAllOption = toOption(pullAll)

  // One element per pull, so a consumer that stops early never takes bytes it did not use.
  const read: Stream.Stream<Uint8Array, ByteChannel.ReadError> = Stream.fromPull(
    Effect.succeed(Effect.map(pullAll, (bytes): readonly [Uint8Array] => [bytes]))
  )

  const send = (bytes: Uint8Array): Effect.Effect<void, SocketError> => {
    if (bytes.length <= maxMessageSize) return socket.send(bytes)
    const parts: Array<Uint8Array> = []
    for (let offset = 0; offset < bytes.length; offset += maxMessageSize) {
      parts.push(bytes.subarray(offset, Math.min(offset + maxMessageSize, bytes.length)))
    }
    return socket.sendAll(parts)
  }

  // Every chunk in order, each as one message (split above maxMessageSize), in one batched send.
  const sendAll = (messages: ReadonlyArray<Uint8Array>): Effect.Effect<void, SocketError> => {
    for (let i = 0; i < messages.length; i++) {
      if (messages[i]!.length > maxMessageSize) return Effect.forEach(messages, send, { discard: true })
    }
    return socket.sendAll(messages)
  }

  const write: Sink.Sink<void, Uint8Array, never, SocketError> = Sink.forEachArray(sendAll)

  const channel: Internal = {
    [TypeId]: TypeId,
    [AbandonRead]: abandonRead,
    [SendAll]: sendAll,
    socket,
    read,
    readChunk,
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
    return Effect.flatMap(Effect.scope, (scope) =>
      Effect.as(
        Scope.addFinalizer(scope, channel.close().pipe(Effect.catch(() => socket.terminate), Effect.uninterruptible)),
        channel
      ))
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
