import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as MessageSocket from "../MessageSocket.js"
import { CloseArgumentError, SocketError } from "../SocketError.js"
import * as SocketMetrics from "../SocketMetrics.js"
import * as constants from "./constants.js"

/** @internal */
export const TypeId: typeof MessageSocket.TypeId = Symbol.for("@bytechannel/core/MessageSocket") as any

/** @internal */
export const isMessageSocket = (u: unknown): u is MessageSocket.MessageSocket => Predicate.hasProperty(u, TypeId)

/** @internal */
export const SocketEvent = Data.taggedEnum<MessageSocket.SocketEvent>()

const utf8 = new TextEncoder()

const isApplicationCode = (code: number) => code === 1000 || (code >= 3000 && code <= 4999)
// Codes an endpoint may put in a close frame (RFC 6455 §7.4.1); 1004-1006 and 1015 are reserved.
const isProtocolCode = (code: number) =>
  isApplicationCode(code) || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014)

/** @internal */
export const validateClose = (
  options: MessageSocket.CloseOptions | undefined,
  allowProtocolCodes = false
): Effect.Effect<{ readonly code: number; readonly reason: string }, CloseArgumentError> => {
  const code = options?.code ?? constants.CLOSE_NORMAL
  const reason = options?.reason ?? ""
  if (!Number.isInteger(code) || !(allowProtocolCodes ? isProtocolCode(code) : isApplicationCode(code))) {
    return Effect.fail(new CloseArgumentError({ reason: "InvalidCode", code, closeReason: reason }))
  }
  // Cheap length check first: a UTF-16 string of n units encodes to at most 3n bytes.
  if (reason.length * 3 > constants.MAX_CLOSE_REASON_BYTES && utf8.encode(reason).length > constants.MAX_CLOSE_REASON_BYTES) {
    return Effect.fail(new CloseArgumentError({ reason: "ReasonTooLong", code, closeReason: reason }))
  }
  return Effect.succeed({ code, reason })
}

const messageSize = (message: MessageSocket.Message): number =>
  typeof message === "string" ? message.length : message.byteLength

// Open sockets in this process, for the gauge (a gauge is set, not incremented).
let openGauge = 0

type Waiter<A> = (exit: Exit.Exit<A, SocketError>) => void

/**
 * The receive queue: an array with a moving head (no per-message allocation beyond the slot),
 * pausing the transport at the high-water mark and resuming it at the low-water mark.
 */
class Inbox {
  private buffer: Array<MessageSocket.Message> = []
  private head = 0
  bytes = 0
  paused = false
  private readonly takers: Array<Waiter<Option.Option<MessageSocket.Message>>> = []
  ended = false
  failure: SocketError | undefined = undefined

  get size(): number {
    return this.buffer.length - this.head
  }

  /** Returns true when a waiting taker got the message directly. */
  handOff(message: MessageSocket.Message): boolean {
    const taker = this.takers.shift()
    if (taker === undefined) return false
    taker(Exit.succeed(Option.some(message)))
    return true
  }

  push(message: MessageSocket.Message): void {
    this.buffer.push(message)
    this.bytes += messageSize(message)
  }

  shift(): MessageSocket.Message {
    const message = this.buffer[this.head]!
    this.buffer[this.head] = undefined as any
    this.head++
    this.bytes -= messageSize(message)
    if (this.head === this.buffer.length) {
      this.buffer = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head)
      this.head = 0
    }
    return message
  }

  addTaker(taker: Waiter<Option.Option<MessageSocket.Message>>): void {
    this.takers.push(taker)
  }

  removeTaker(taker: Waiter<Option.Option<MessageSocket.Message>>): void {
    const index = this.takers.indexOf(taker)
    if (index >= 0) this.takers.splice(index, 1)
  }

  /** Wakes every waiting taker with the end (or failure) of the stream. */
  finish(): void {
    const exit: Exit.Exit<Option.Option<MessageSocket.Message>, SocketError> = this.failure
      ? Exit.fail(this.failure)
      : Exit.succeed(Option.none())
    const takers = this.takers.splice(0)
    for (const taker of takers) taker(exit)
  }
}

/** @internal */
export const make = (
  transport: MessageSocket.Transport,
  options?: MessageSocket.ControllerOptions
): Effect.Effect<MessageSocket.Controller> =>
  Effect.gen(function*() {
    const closedDeferred = yield* Deferred.make<MessageSocket.CloseInfo>()
    return unsafeMake(transport, closedDeferred, options)
  })

const unsafeMake = (
  transport: MessageSocket.Transport,
  closedDeferred: Deferred.Deferred<MessageSocket.CloseInfo>,
  options: MessageSocket.ControllerOptions | undefined
): MessageSocket.Controller => {
  const highMessages = options?.receiveHighWaterMessages ?? constants.DEFAULT_RECEIVE_HIGH_WATER_MESSAGES
  const highBytes = options?.receiveHighWaterBytes ?? constants.DEFAULT_RECEIVE_HIGH_WATER_BYTES
  const resumeRatio = options?.receiveResumeRatio ?? 0.5
  const lowMessages = Math.floor(highMessages * resumeRatio)
  const lowBytes = Math.floor(highBytes * resumeRatio)
  const overflow = options?.receiveOverflow ?? "pause"
  const sendHighWater = options?.sendHighWaterMark ?? constants.DEFAULT_SEND_HIGH_WATER_BYTES
  const defaultCloseTimeout = Duration.decode(options?.closeTimeout ?? constants.DEFAULT_CLOSE_TIMEOUT_MILLIS)

  const inbox = new Inbox()
  openGauge++
  SocketMetrics.openConnections.unsafeUpdate(openGauge, [])
  const writers: Array<Waiter<void>> = []
  let state: "open" | "closing" | "closed" = "open"
  let closeInfo: MessageSocket.CloseInfo | undefined
  let localClose = false
  let received = 0

  // Created by the first `events` subscriber: events before any subscription reach no one, so
  // most connections never pay for the buffer.
  let pubsub: PubSub.PubSub<MessageSocket.SocketEvent> | undefined
  const emit = (event: MessageSocket.SocketEvent) => {
    pubsub?.unsafeOffer(event)
  }

  const closedError = () =>
    new SocketError({
      reason: "Closed",
      code: closeInfo?.code,
      closeReason: closeInfo?.reason,
      // Who closed, and that nothing more can be sent: only sends see this error.
      detail: closeInfo === undefined
        ? "cannot send while this side is closing the connection"
        : closeInfo.local
        ? "cannot send after this side closed the connection"
        : closeInfo.code === constants.CLOSE_ABNORMAL
        ? "cannot send after the connection was lost"
        : "cannot send after the peer closed the connection"
    })

  const wakeWriters = (exit: () => Exit.Exit<void, SocketError>) => {
    if (writers.length === 0) return
    const waiting = writers.splice(0)
    const result = exit()
    for (const writer of waiting) writer(result)
  }
  const failWriters = () => Exit.fail(closedError())

  const offer = (message: MessageSocket.Message) => {
    if (state === "closed" || inbox.failure) return
    received++
    SocketMetrics.messagesReceived.unsafeUpdate(1, [])
    SocketMetrics.bytesReceived.unsafeUpdate(messageSize(message), [])
    if (inbox.handOff(message)) return
    inbox.push(message)
    if (!inbox.paused && (inbox.size >= highMessages || inbox.bytes >= highBytes)) {
      if (overflow === "fail") {
        fail(
          new SocketError({
            reason: "ReceiveOverflow",
            code: constants.CLOSE_MESSAGE_TOO_BIG,
            detail: `more than ${highMessages} messages or ${highBytes} bytes unread`
          })
        )
        beginClose(constants.CLOSE_MESSAGE_TOO_BIG, "receive buffer full")
        return
      }
      inbox.paused = true
      transport.pause()
      emit(SocketEvent.ReceivePaused({ messages: inbox.size, bytes: inbox.bytes }))
    }
  }

  const afterTake = () => {
    if (inbox.paused && inbox.size <= lowMessages && inbox.bytes <= lowBytes) {
      inbox.paused = false
      emit(SocketEvent.ReceiveResumed({ messages: inbox.size, bytes: inbox.bytes }))
      transport.resume()
    }
  }

  const fail = (error: SocketError) => {
    if (inbox.failure || state === "closed") return
    inbox.failure = error
    emit(SocketEvent.Error({ error }))
    if (inbox.size === 0) inbox.finish()
  }

  const closed = (info: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => {
    if (state === "closed") return
    state = "closed"
    openGauge--
    SocketMetrics.openConnections.unsafeUpdate(openGauge, [])
    closeInfo = { code: info.code, reason: info.reason, wasClean: info.wasClean, local: localClose }
    if (inbox.paused) {
      inbox.paused = false
    }
    inbox.ended = true
    if (inbox.size === 0) inbox.finish()
    wakeWriters(failWriters)
    emit(SocketEvent.Close({ info: closeInfo }))
    Deferred.unsafeDone(closedDeferred, Exit.succeed(closeInfo))
  }

  const drained = () => {
    if (writers.length > 0 && transport.bufferedAmount() < sendHighWater) wakeWriters(() => Exit.void)
  }

  const beginClose = (code: number, reason: string) => {
    if (state !== "open") return
    state = "closing"
    localClose = true
    wakeWriters(failWriters)
    transport.sendClose(code, reason)
  }

  const terminateNow = () => {
    if (state === "closed") return
    localClose = localClose || state === "open"
    transport.terminate()
    closed({ code: constants.CLOSE_ABNORMAL, reason: "", wasClean: false })
  }

  const receive: Effect.Effect<Option.Option<MessageSocket.Message>, SocketError> = Effect.suspend(() => {
    if (inbox.size > 0) {
      const message = inbox.shift()
      afterTake()
      if (inbox.size === 0 && (inbox.ended || inbox.failure)) inbox.finish()
      return Effect.succeed(Option.some(message))
    }
    if (inbox.failure) return Effect.fail(inbox.failure)
    if (inbox.ended) return Effect.succeed(Option.none())
    return Effect.async<Option.Option<MessageSocket.Message>, SocketError>((resume) => {
      const taker: Waiter<Option.Option<MessageSocket.Message>> = (exit) => resume(exit)
      inbox.addTaker(taker)
      return Effect.sync(() => inbox.removeTaker(taker))
    })
  })

  const waitWritable = Effect.async<void, SocketError>((resume) => {
    const writer: Waiter<void> = (exit) => resume(exit)
    writers.push(writer)
    return Effect.sync(() => {
      const index = writers.indexOf(writer)
      if (index >= 0) writers.splice(index, 1)
    })
  })

  const send = (message: MessageSocket.Message): Effect.Effect<void, SocketError> =>
    Effect.suspend(() => {
      if (state !== "open") return Effect.fail(closedError())
      if (transport.bufferedAmount() < sendHighWater) {
        SocketMetrics.messagesSent.unsafeUpdate(1, [])
        SocketMetrics.bytesSent.unsafeUpdate(messageSize(message), [])
        transport.write(message)
        return Effect.void
      }
      return Effect.zipRight(waitWritable, send(message))
    })

  // The hot path of bulk writes: a plain loop while the transport has room, an Effect only to wait.
  const sendAll = (messages: ReadonlyArray<MessageSocket.Message>): Effect.Effect<void, SocketError> =>
    Effect.suspend(() => {
      let index = 0
      const loop: Effect.Effect<void, SocketError> = Effect.suspend(() => {
        while (index < messages.length) {
          if (state !== "open") return Effect.fail(closedError())
          if (transport.bufferedAmount() >= sendHighWater) return Effect.zipRight(waitWritable, loop)
          const message = messages[index++]!
          SocketMetrics.messagesSent.unsafeUpdate(1, [])
          SocketMetrics.bytesSent.unsafeUpdate(messageSize(message), [])
          transport.write(message)
        }
        return Effect.void
      })
      return loop
    })

  const closeWith = (allowProtocolCodes: boolean) => (closeOptions?: MessageSocket.CloseOptions) =>
    Effect.flatMap(validateClose(closeOptions, allowProtocolCodes), ({ code, reason }) => {
      beginClose(code, reason)
      if (closeInfo !== undefined) return Effect.succeed(closeInfo)
      const timeout = closeOptions?.timeout === undefined ? defaultCloseTimeout : Duration.decode(closeOptions.timeout)
      // Interruptible even inside a finalizer (which runs uninterruptibly), or the timeout
      // could not cut the wait short and a silent peer would hold the scope open.
      return Effect.interruptible(Deferred.await(closedDeferred)).pipe(
        Effect.timeoutOption(timeout),
        Effect.flatMap(Option.match({
          onSome: Effect.succeed,
          onNone: () =>
            Effect.suspend(() => {
              terminateNow()
              return Deferred.await(closedDeferred)
            })
        }))
      )
    })

  const hub: Effect.Effect<PubSub.PubSub<MessageSocket.SocketEvent>> = Effect.suspend(() =>
    pubsub !== undefined
      ? Effect.succeed(pubsub)
      : Effect.map(PubSub.sliding<MessageSocket.SocketEvent>(constants.EVENTS_BUFFER), (created) => (pubsub ??= created))
  )

  const events: Stream.Stream<MessageSocket.SocketEvent> = Stream.unwrapScoped(
    Effect.gen(function*() {
      const subscription = yield* PubSub.subscribe(yield* hub)
      return closeInfo !== undefined
        ? Stream.make(SocketEvent.Close({ info: closeInfo }))
        : Stream.fromQueue(subscription).pipe(Stream.takeUntil(SocketEvent.$is("Close")))
    })
  )

  const socket: MessageSocket.MessageSocket = {
    [TypeId]: TypeId,
    protocol: options?.protocol ?? "",
    receive,
    send,
    sendAll,
    close: closeWith(false),
    closeWithProtocolCode: closeWith(true),
    terminate: Effect.sync(terminateNow),
    closed: Deferred.await(closedDeferred),
    events
  }

  return {
    socket,
    offer,
    drained,
    closed,
    fail,
    emit,
    state: () => state,
    receiveQueueSize: () => inbox.size,
    receivedMessages: () => received
  }
}

/** @internal */
export const closeOnScopeClose = (
  socket: MessageSocket.MessageSocket,
  options?: MessageSocket.CloseOptions
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.addFinalizer(() =>
    socket.closeWithProtocolCode(options ?? {}).pipe(
      Effect.catchAll(() => socket.terminate),
      Effect.asVoid
    )
  )
