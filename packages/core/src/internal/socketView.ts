/**
 * What users hold of a socket engine (a small view over it, each member made on first use) and
 * the bounds an engine reads from its options.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Data from "effect/Data"
import type * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import * as CloseCode from "../CloseCode.js"
import type * as MessageSocket from "../MessageSocket.js"
import { SocketError } from "../SocketError.js"
import type * as Transport from "../Transport.js"
import * as constants from "./constants.js"
import type { Inbox } from "./inbox.js"

/** @internal */
export const TypeId: typeof MessageSocket.TypeId = Symbol.for("@bytechannel/core/MessageSocket") as any

/** @internal */
export const SocketEvent = Data.taggedEnum<MessageSocket.SocketEvent>()

/**
 * @internal
 * The bounds of a socket, read once from its options. Sockets with the default options (the
 * common case, a server's connections) share one.
 */
export interface Config {
  readonly highMessages: number
  readonly highBytes: number
  readonly lowMessages: number
  readonly lowBytes: number
  readonly overflow: "pause" | "fail"
  readonly sendHighWater: number
  readonly closeTimeout: Duration.Duration
  readonly sendStallTimeout: Duration.Duration
}

const makeConfig = (options: Transport.TransportOptions | undefined): Config => {
  const highMessages = options?.receiveHighWaterMessages ?? constants.DEFAULT_RECEIVE_HIGH_WATER_MESSAGES
  const highBytes = options?.receiveHighWaterBytes ?? constants.DEFAULT_RECEIVE_HIGH_WATER_BYTES
  const resumeRatio = options?.receiveResumeRatio ?? constants.DEFAULT_RECEIVE_RESUME_RATIO
  return {
    highMessages,
    highBytes,
    lowMessages: Math.floor(highMessages * resumeRatio),
    lowBytes: Math.floor(highBytes * resumeRatio),
    overflow: options?.receiveOverflow ?? "pause",
    sendHighWater: options?.sendHighWaterMark ?? constants.DEFAULT_SEND_HIGH_WATER_BYTES,
    closeTimeout: Duration.fromInputUnsafe(options?.closeTimeout ?? constants.DEFAULT_CLOSE_TIMEOUT_MILLIS),
    sendStallTimeout: Duration.fromInputUnsafe(options?.sendStallTimeout ?? constants.DEFAULT_SEND_STALL_TIMEOUT_MILLIS)
  }
}

const defaultConfig = makeConfig(undefined)

export const configOf = (options: Transport.TransportOptions | undefined): Config =>
  options === undefined || (
      options.receiveHighWaterMessages === undefined && options.receiveHighWaterBytes === undefined &&
      options.receiveResumeRatio === undefined && (options.receiveOverflow ?? "pause") === "pause" &&
      options.sendHighWaterMark === undefined && options.closeTimeout === undefined &&
      options.sendStallTimeout === undefined
    )
    ? defaultConfig
    : makeConfig(options)


/** What the view asks of its engine. @internal */
export interface ViewEngine {
  cached: Cached | undefined
  readonly transport: Transport.Transport
  receiveNow(
    wait: Effect.Effect<Option.Option<MessageSocket.Message>, SocketError>
  ): Effect.Effect<Option.Option<MessageSocket.Message>, SocketError>
  readonly inbox: Inbox
  sendAll(messages: ReadonlyArray<MessageSocket.Message>): Effect.Effect<void, SocketError>
  sendOne(message: MessageSocket.Message): Effect.Effect<void, SocketError>
  close(options: MessageSocket.CloseOptions | undefined, allowProtocolCodes: boolean): ReturnType<MessageSocket.MessageSocket["close"]>
  terminateNow(): void
  awaitClosed(): Effect.Effect<MessageSocket.CloseInfo>
  pubsub: PubSub.PubSub<MessageSocket.SocketEvent> | undefined
  readonly closeInfo: MessageSocket.CloseInfo | undefined
}

/** The error a send gets once the socket is closing or closed: who closed, and that nothing more can be sent. @internal */
export const closedError = (closeInfo: MessageSocket.CloseInfo | undefined): SocketError =>
  new SocketError({
    reason: "Closed",
    code: closeInfo?.code,
    closeReason: closeInfo?.reason,
    detail: closeInfo === undefined
      ? "cannot send while this side is closing the connection"
      : closeInfo.local
      ? "cannot send after this side closed the connection"
      : closeInfo.code === CloseCode.Abnormal
      ? "cannot send after the connection was lost"
      : "cannot send after the peer closed the connection"
  })

// Runs `next` once a message is queued or the input ended or failed: a reader that waits
// costs one resumption, straight into `next`. Woken readers take their message themselves,
// in their own fiber, so one interrupted after its wake-up loses nothing (cancel-safe reads):
// it passes the wake-up on to the next reader.
const whenReadable = <A, E>(inbox: Inbox, next: Effect.Effect<A, E>): Effect.Effect<A, E> => {
  return Effect.callback<A, E>((resume) => {
    if (inbox.size > 0 || inbox.ended || inbox.failure) return resume(next)
    let woken = false
    const waker = () => {
      woken = true
      resume(next)
    }
    inbox.addWaker(waker)
    return Effect.sync(() => inbox.removeWaker(waker, woken))
  })
}

/** The socket's events: the hub is made by the first subscriber (events before reach no one). */
const events = (engine: ViewEngine): Stream.Stream<MessageSocket.SocketEvent> => {
  const hub: Effect.Effect<PubSub.PubSub<MessageSocket.SocketEvent>> = Effect.suspend(() =>
    engine.pubsub !== undefined
      ? Effect.succeed(engine.pubsub)
      : Effect.map(
        PubSub.sliding<MessageSocket.SocketEvent>(constants.EVENTS_BUFFER),
        (created) => (engine.pubsub ??= created)
      )
  )
  return Stream.unwrap(
    Effect.map(Effect.flatMap(hub, PubSub.subscribe), (subscription) =>
      engine.closeInfo !== undefined
        ? Stream.make(SocketEvent.Close({ info: engine.closeInfo }))
        : Stream.fromSubscription(subscription).pipe(Stream.takeUntil(SocketEvent.$is("Close"))))
  )
}

/** @internal */
export interface Bound {
  onMessage?: (message: MessageSocket.Message) => void
  onDrain?: () => void
  onClose?: (info: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => void
  onError?: (error: SocketError) => void
  emit?: (event: MessageSocket.SocketEvent) => void
}

/** @internal */
export interface Cached {
  receive?: Effect.Effect<Option.Option<MessageSocket.Message>, SocketError>
  send?: (message: MessageSocket.Message) => Effect.Effect<void, SocketError>
  sendAll?: (messages: ReadonlyArray<MessageSocket.Message>) => Effect.Effect<void, SocketError>
  close?: MessageSocket.MessageSocket["close"]
  closeWithProtocolCode?: MessageSocket.MessageSocket["closeWithProtocolCode"]
  terminate?: Effect.Effect<void>
  closed?: Effect.Effect<MessageSocket.CloseInfo>
  events?: Stream.Stream<MessageSocket.SocketEvent>
}

/**
 * @internal
 * What users hold: a view over the engine. Each member is made on first use and kept, so a
 * member read twice is the same value, and a method read off the socket works detached.
 */
export class Socket implements MessageSocket.MessageSocket {
  declare readonly [TypeId]: MessageSocket.TypeId
  constructor(private readonly engine: ViewEngine) {}

  private get cache(): Cached {
    return this.engine.cached ??= {}
  }
  get protocol(): string {
    return this.engine.transport.protocol?.() ?? ""
  }
  get receive(): Effect.Effect<Option.Option<MessageSocket.Message>, SocketError> {
    const cache = this.cache
    if (cache.receive === undefined) {
      const engine = this.engine
      const receive: Effect.Effect<Option.Option<MessageSocket.Message>, SocketError> = Effect.suspend(() =>
        engine.receiveNow(waitThenReceive)
      )
      const waitThenReceive = whenReadable(engine.inbox, receive)
      cache.receive = receive
    }
    return cache.receive
  }
  get send(): (message: MessageSocket.Message) => Effect.Effect<void, SocketError> {
    const engine = this.engine
    return this.cache.send ??= (message) => engine.sendOne(message)
  }
  get sendAll(): (messages: ReadonlyArray<MessageSocket.Message>) => Effect.Effect<void, SocketError> {
    const engine = this.engine
    return this.cache.sendAll ??= (messages) => engine.sendAll(messages)
  }
  get close(): MessageSocket.MessageSocket["close"] {
    const engine = this.engine
    return this.cache.close ??= (options) => engine.close(options, false)
  }
  get closeWithProtocolCode(): MessageSocket.MessageSocket["closeWithProtocolCode"] {
    const engine = this.engine
    return this.cache.closeWithProtocolCode ??= (options) => engine.close(options, true)
  }
  get terminate(): Effect.Effect<void> {
    const engine = this.engine
    return this.cache.terminate ??= Effect.sync(() => engine.terminateNow())
  }
  get closed(): Effect.Effect<MessageSocket.CloseInfo> {
    return this.cache.closed ??= this.engine.awaitClosed()
  }
  get events(): Stream.Stream<MessageSocket.SocketEvent> {
    return this.cache.events ??= events(this.engine)
  }
}
Object.defineProperty(Socket.prototype, TypeId, { value: TypeId })
