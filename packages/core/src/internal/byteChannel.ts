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

/** A channel's options, read once. Channels with the default options share one. */
interface Config {
  readonly textPolicy: ByteChannel.TextPolicy
  readonly maxMessageSize: number
  // Unset: the socket's own default applies (its transport may configure one).
  readonly closeTimeout: Duration.Duration | undefined
  readonly cleanCodes: ReadonlySet<number>
}

const makeConfig = (options: ByteChannel.ByteChannelOptions | undefined): Config => {
  const maxMessageSize = options?.maxMessageSize ?? constants.DEFAULT_MAX_MESSAGE_SIZE
  if (!(maxMessageSize >= 1)) throw new RangeError(`maxMessageSize must be at least 1, got ${maxMessageSize}`)
  const cleanCodes = new Set(options?.cleanCloseCodes ?? [CloseCode.Normal])
  cleanCodes.delete(CloseCode.Abnormal)
  return {
    textPolicy: options?.text ?? "bytes",
    maxMessageSize,
    closeTimeout: options?.closeTimeout === undefined ? undefined : Duration.fromInputUnsafe(options.closeTimeout),
    cleanCodes
  }
}

const defaultConfig = makeConfig(undefined)

// The reads below are pulls: the next bytes, or `Cause.Done` at the end of the input.
type Read = Effect.Effect<Uint8Array, ByteChannel.ReadError | Cause.Done>

const toOption = (pull: Read): Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> =>
  Pull.catchDone(Effect.map(pull, Option.some), () => Effect.succeedNone)

const asChunk = (bytes: Uint8Array): readonly [Uint8Array] => [bytes]

/** What a channel makes on first use and keeps. */
interface Made {
  nextMessage?: Read
  pullAll?: Read
  readAllOption?: Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError>
  boundedRead?: { readonly maxBytes: number; readonly read: Effect.Effect<Option.Option<Uint8Array>, ByteChannel.ReadError> }
  read?: Stream.Stream<Uint8Array, ByteChannel.ReadError>
  write?: Sink.Sink<void, Uint8Array, never, SocketError>
  readChunk?: ByteChannel.ByteChannel["readChunk"]
  send?: ByteChannel.ByteChannel["send"]
  sendAll?: Internal[typeof SendAll]
  close?: ByteChannel.ByteChannel["close"]
  abandonRead?: Effect.Effect<void>
}

/**
 * A byte channel over a socket: each member is made on first use and kept (a member read twice
 * is the same value, and works detached), so a connection that only reads holds only its reads.
 */
class Channel implements Internal {
  declare readonly [TypeId]: ByteChannel.TypeId
  private leftover: Uint8Array | undefined = undefined
  private made: Made | undefined = undefined

  constructor(readonly socket: MessageSocket.MessageSocket, private readonly config: Config) {}

  private get m(): Made {
    return this.made ??= {}
  }

  get closed(): Effect.Effect<MessageSocket.CloseInfo> {
    return this.socket.closed
  }
  get events(): Stream.Stream<MessageSocket.SocketEvent> {
    return this.socket.events
  }

  private endOfInput(info: MessageSocket.CloseInfo): Read {
    return info.local || this.config.cleanCodes.has(info.code)
      ? Cause.done()
      : Effect.fail(new SocketError({ reason: "Closed", code: info.code, closeReason: info.reason }))
  }

  private onMessage(message: Option.Option<MessageSocket.Message>): Read {
    if (message._tag === "None") return Effect.flatMap(this.socket.closed, (info) => this.endOfInput(info))
    const value = message.value
    if (typeof value !== "string") return Effect.succeed(value)
    switch (this.config.textPolicy) {
      case "bytes":
        return Effect.succeed(utf8.encode(value))
      case "ignore":
        return this.nextMessage
      case "error":
        return Effect.andThen(
          this.socket.closeWithProtocolCode({
            code: CloseCode.UnsupportedData,
            reason: "text messages are not accepted",
            timeout: this.config.closeTimeout
          }).pipe(Effect.ignore),
          // Built only if it happens: an error captures a stack trace, too dear for every channel.
          Effect.failSync(() =>
            new ProtocolError({ reason: "UnexpectedText", detail: "a text message arrived under text: \"error\"" })
          )
        )
    }
  }

  private get nextMessage(): Read {
    return this.m.nextMessage ??= Effect.flatMap(this.socket.receive, (message) => this.onMessage(message))
  }

  private pullChunk(maxBytes: number): Read {
    const bytes = this.leftover
    if (bytes !== undefined) {
      if (bytes.length > maxBytes) {
        this.leftover = bytes.subarray(maxBytes)
        return Effect.succeed(bytes.subarray(0, maxBytes))
      }
      this.leftover = undefined
      return Effect.succeed(bytes)
    }
    if (maxBytes === Infinity) return this.nextMessage
    return Effect.map(this.nextMessage, (next) => this.cut(next, maxBytes))
  }

  // At most `maxBytes` of a message just received: the rest is kept for the next read.
  private cut(next: Uint8Array, maxBytes: number): Uint8Array {
    if (next.length <= maxBytes) return next
    this.leftover = next.subarray(maxBytes)
    return next.subarray(0, maxBytes)
  }

  private get pullAll(): Read {
    return this.m.pullAll ??= Effect.suspend(() => this.leftover === undefined ? this.nextMessage : this.pullChunk(Infinity))
  }

  get readChunk(): ByteChannel.ByteChannel["readChunk"] {
    return this.m.readChunk ??= (maxBytes) => {
      if (maxBytes === undefined) return this.m.readAllOption ??= toOption(this.pullAll)
      if (!(maxBytes >= 1)) return Effect.die(new RangeError(`readChunk: maxBytes must be at least 1, got ${maxBytes}`))
      // A reader asks for the same bound again and again (what is left of a frame, a buffer's
      // size): the read for the last bound is kept, so a loop of reads builds nothing per read.
      const m = this.m
      if (m.boundedRead === undefined || m.boundedRead.maxBytes !== maxBytes) {
        const cutNext = Effect.map(this.nextMessage, (next) => this.cut(next, maxBytes))
        m.boundedRead = {
          maxBytes,
          read: toOption(Effect.suspend(() => this.leftover === undefined ? cutNext : this.pullChunk(maxBytes)))
        }
      }
      return m.boundedRead.read
    }
  }

  // One element per pull, so a consumer that stops early never takes bytes it did not use.
  get read(): Stream.Stream<Uint8Array, ByteChannel.ReadError> {
    return this.m.read ??= Stream.fromPull(Effect.succeed(Effect.map(this.pullAll, asChunk)))
  }

  get send(): ByteChannel.ByteChannel["send"] {
    return this.m.send ??= (bytes) => {
      const maxMessageSize = this.config.maxMessageSize
      if (bytes.length <= maxMessageSize) return this.socket.send(bytes)
      const parts: Array<Uint8Array> = []
      for (let offset = 0; offset < bytes.length; offset += maxMessageSize) {
        parts.push(bytes.subarray(offset, Math.min(offset + maxMessageSize, bytes.length)))
      }
      return this.socket.sendAll(parts)
    }
  }

  // Every chunk in order, each as one message (split above maxMessageSize), in one batched send.
  get [SendAll](): Internal[typeof SendAll] {
    return this.m.sendAll ??= (messages) => {
      const maxMessageSize = this.config.maxMessageSize
      for (let i = 0; i < messages.length; i++) {
        if (messages[i]!.length > maxMessageSize) return Effect.forEach(messages, this.send, { discard: true })
      }
      return this.socket.sendAll(messages)
    }
  }

  get write(): Sink.Sink<void, Uint8Array, never, SocketError> {
    return this.m.write ??= Sink.forEachArray(this[SendAll])
  }

  get close(): ByteChannel.ByteChannel["close"] {
    return this.m.close ??= (closeOptions) => this.socket.close({ timeout: this.config.closeTimeout, ...closeOptions })
  }

  // Effect reads are cancel-safe: an interrupted read loses nothing and leaves the channel open
  // (closing is the scope's job). Only a cancelled WHATWG or async-iterator reader closes it.
  get [AbandonRead](): Effect.Effect<void> {
    return this.m.abandonRead ??= Effect.suspend(() => this.socket.close({ timeout: this.config.closeTimeout })).pipe(
      Effect.ignore
    )
  }
}
Object.defineProperty(Channel.prototype, TypeId, { value: TypeId })

/** @internal */
export const fromSocket = (
  socket: MessageSocket.MessageSocket,
  options?: ByteChannel.ByteChannelOptions
): ByteChannel.ByteChannel =>
  new Channel(
    socket,
    options === undefined || (options.text === undefined && options.maxMessageSize === undefined &&
        options.closeTimeout === undefined && options.cleanCloseCodes === undefined)
      ? defaultConfig
      : makeConfig(options)
  )

/** @internal */
export const connect = (
  url: string | URL,
  options?: ByteChannel.ByteChannelOptions & Connector.ConnectOptions
) =>
  Effect.flatMap(Connector.connect(url, options), (socket) => {
    const channel = fromSocket(socket, options)
    // A connector closes its socket with the scope (1000, its close timeout): the channel's
    // close is that same close unless the channel has a close timeout of its own.
    if (options?.closeTimeout === undefined) return Effect.succeed(channel)
    // The scope's own list: `Effect.addFinalizer` would diff and patch every fiber ref.
    return Effect.flatMap(Effect.scope, (scope) =>
      Effect.as(
        // Built when the scope closes: an open connection holds one closure for it.
        Scope.addFinalizerExit(scope, () => channel.close().pipe(Effect.catch(() => socket.terminate), Effect.uninterruptible)),
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
