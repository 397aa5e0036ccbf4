import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import * as CloseCode from "../CloseCode.js"
import type * as MessageSocket from "../MessageSocket.js"
import type * as Transport from "../Transport.js"
import { SocketError } from "../SocketError.js"
import * as SocketMetrics from "../SocketMetrics.js"
import { validateClose } from "./close.js"
import * as constants from "./constants.js"
import { withDeadline } from "./deadline.js"
import { Inbox, messageSize } from "./inbox.js"
import * as SendStall from "./sendStall.js"

/** @internal */
export const TypeId: typeof MessageSocket.TypeId = Symbol.for("@bytechannel/core/MessageSocket") as any

/** @internal */
export const isMessageSocket = (u: unknown): u is MessageSocket.MessageSocket => Predicate.hasProperty(u, TypeId)

/** @internal */
export const SocketEvent = Data.taggedEnum<MessageSocket.SocketEvent>()

// Metrics are updated from plain code: the default registry, looked up from an empty context.
const noContext = Context.empty()

// Open sockets in this process, for the gauge (a gauge is set, not incremented).
let openGauge = 0

type Waiter = (exit: Exit.Exit<void, SocketError>) => void

/** @internal */
export const makeWith = (
  build: (controller: Transport.Controller) => Transport.Transport,
  options?: Transport.TransportOptions
): Effect.Effect<Transport.Controller> => Effect.sync(() => makeUnsafe(build, options))

/** @internal */
export const make = (
  transport: Transport.Transport,
  options?: Transport.TransportOptions
): Effect.Effect<Transport.Controller> => Effect.sync(() => makeUnsafe(() => transport, options))

const makeUnsafe = (
  build: (controller: Transport.Controller) => Transport.Transport,
  options: Transport.TransportOptions | undefined
): Transport.Controller => {
  // Bound right below, once the controller exists: the transport's callbacks need it.
  let transport: Transport.Transport = undefined as unknown as Transport.Transport
  const highMessages = options?.receiveHighWaterMessages ?? constants.DEFAULT_RECEIVE_HIGH_WATER_MESSAGES
  const highBytes = options?.receiveHighWaterBytes ?? constants.DEFAULT_RECEIVE_HIGH_WATER_BYTES
  const resumeRatio = options?.receiveResumeRatio ?? constants.DEFAULT_RECEIVE_RESUME_RATIO
  const lowMessages = Math.floor(highMessages * resumeRatio)
  const lowBytes = Math.floor(highBytes * resumeRatio)
  const overflow = options?.receiveOverflow ?? "pause"
  const sendHighWater = options?.sendHighWaterMark ?? constants.DEFAULT_SEND_HIGH_WATER_BYTES
  const defaultCloseTimeout = Duration.fromInputUnsafe(options?.closeTimeout ?? constants.DEFAULT_CLOSE_TIMEOUT_MILLIS)
  const sendStallTimeout = Duration.fromInputUnsafe(options?.sendStallTimeout ?? constants.DEFAULT_SEND_STALL_TIMEOUT_MILLIS)

  const inbox = new Inbox()
  openGauge++
  SocketMetrics.openConnections.updateUnsafe(openGauge, noContext)
  const writers: Array<Waiter> = []
  // Fibers waiting for the close (a list, not a Deferred: nothing to allocate per socket).
  const closeWaiters: Array<(info: MessageSocket.CloseInfo) => void> = []
  let state: "open" | "closing" | "closed" = "open"
  let closeInfo: MessageSocket.CloseInfo | undefined
  let localClose = false
  let received = 0
  let pauses = 0
  // Bytes handed to the transport so far: with the send buffer, how much of it drained.
  let sentBytes = 0
  // Close deadlines that outlive the caller who gave up on them: stopped when the socket closes.
  const closeTimers = new Set<Fiber.Fiber<void>>()

  // Created by the first `events` subscriber: events before any subscription reach no one, so
  // most connections never pay for the buffer.
  let pubsub: PubSub.PubSub<MessageSocket.SocketEvent> | undefined
  const emit = (event: MessageSocket.SocketEvent) => {
    if (pubsub !== undefined) PubSub.publishUnsafe(pubsub, event)
  }

  const awaitClosed: Effect.Effect<MessageSocket.CloseInfo> = Effect.callback((resume) => {
    if (closeInfo !== undefined) return resume(Effect.succeed(closeInfo))
    const waiter = (info: MessageSocket.CloseInfo) => resume(Effect.succeed(info))
    closeWaiters.push(waiter)
    return Effect.sync(() => {
      const index = closeWaiters.indexOf(waiter)
      if (index >= 0) closeWaiters.splice(index, 1)
    })
  })

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
        : closeInfo.code === CloseCode.Abnormal
        ? "cannot send after the connection was lost"
        : "cannot send after the peer closed the connection"
    })

  const wakeWriters = (exit: Exit.Exit<void, SocketError>) => {
    if (writers.length === 0) return
    for (const writer of writers.splice(0)) writer(exit)
  }

  const offer = (message: MessageSocket.Message) => {
    if (state === "closed" || inbox.failure) return
    received++
    SocketMetrics.messagesReceived.updateUnsafe(1, noContext)
    SocketMetrics.bytesReceived.updateUnsafe(messageSize(message), noContext)
    const full = inbox.size >= highMessages || inbox.bytes >= highBytes
    // After a local close the transport is never paused again: it reads on until the peer's
    // close frame, which may sit behind data. What fits in the bounds is still delivered (a
    // reply to what we sent before closing); what does not is discarded.
    if (state === "closing" && localClose) {
      if (!full) inbox.push(message)
      return
    }
    inbox.push(message)
    if (!inbox.paused && (inbox.size >= highMessages || inbox.bytes >= highBytes)) {
      if (overflow === "fail") {
        failAndClose(
          new SocketError({
            reason: "ReceiveOverflow",
            code: CloseCode.MessageTooBig,
            detail: `more than ${highMessages} messages or ${highBytes} bytes unread`
          }),
          CloseCode.MessageTooBig,
          "receive buffer full"
        )
        return
      }
      inbox.paused = true
      pauses++
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

  // The transport failed (a protocol error it detected, a dead peer, an overflow, a stalled
  // send): this side is closing the connection, so sending is over now and the close is local.
  const fail = (error: SocketError) => {
    if (inbox.failure || state === "closed") return
    inbox.failure = error
    if (state === "open") {
      state = "closing"
      localClose = true
      wakeWriters(Exit.fail(closedError()))
      readOnPastPause()
    }
    emit(SocketEvent.Error({ error }))
    if (inbox.size === 0) inbox.finish()
  }

  // This side fails the connection and closes it with `code`: the failure is recorded first, so a
  // transport whose close completes at once (onClose inside sendClose) still fails `receive`.
  const failAndClose = (error: SocketError, code: number, reason: string) => {
    if (inbox.failure || state === "closed") return
    inbox.failure = error
    beginClose(code, reason)
    emit(SocketEvent.Error({ error }))
    if (inbox.size === 0) inbox.finish()
  }

  const closed = (info: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => {
    if (state === "closed") return
    state = "closed"
    openGauge--
    SocketMetrics.openConnections.updateUnsafe(openGauge, noContext)
    closeInfo = { code: info.code, reason: info.reason, wasClean: info.wasClean, local: localClose }
    inbox.paused = false
    inbox.ended = true
    if (inbox.size === 0) inbox.finish()
    wakeWriters(Exit.fail(closedError()))
    // Nothing of a closed connection waits on: its timers end with it.
    stall.stop()
    for (const timer of closeTimers) timer.interruptUnsafe()
    closeTimers.clear()
    emit(SocketEvent.Close({ info: closeInfo }))
    const done = closeInfo
    for (const waiter of closeWaiters.splice(0)) waiter(done)
  }

  const drained = () => {
    if (writers.length > 0 && transport.bufferedAmount() < sendHighWater) wakeWriters(Exit.void)
  }

  // A paused transport would never read the peer's close frame behind the unread data.
  const readOnPastPause = () => {
    if (!inbox.paused) return
    inbox.paused = false
    transport.resume()
  }

  const beginClose = (code: number, reason: string) => {
    if (state !== "open") return
    state = "closing"
    localClose = true
    wakeWriters(Exit.fail(closedError()))
    transport.sendClose(code, reason)
    readOnPastPause()
  }

  const terminateNow = () => {
    if (state === "closed") return
    localClose = localClose || state === "open"
    try {
      transport.terminate()
    } finally {
      // Closed even when the transport's terminate throws: every close waiting on it must end.
      closed({ code: CloseCode.Abnormal, reason: "", wasClean: false })
    }
  }

  // Runs `next` once a message is queued or the input ended or failed: a reader that waits
  // costs one resumption, straight into `next`. Woken readers take their message themselves,
  // in their own fiber, so one interrupted after its wake-up loses nothing (cancel-safe reads):
  // it passes the wake-up on to the next reader.
  const whenReadable = <A, E>(next: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.callback<A, E>((resume) => {
      if (inbox.size > 0 || inbox.ended || inbox.failure) return resume(next)
      let woken = false
      const waker = () => {
        woken = true
        resume(next)
      }
      inbox.addWaker(waker)
      return Effect.sync(() => inbox.removeWaker(waker, woken))
    })

  const receive: Effect.Effect<Option.Option<MessageSocket.Message>, SocketError> = Effect.suspend(() => {
    if (inbox.size > 0) {
      const message = inbox.shift()
      afterTake()
      if (inbox.size === 0 && (inbox.ended || inbox.failure)) inbox.finish()
      return Effect.succeed(Option.some(message))
    }
    if (inbox.failure) return Effect.fail(inbox.failure)
    if (inbox.ended) return Effect.succeedNone
    return waitThenReceive
  })
  const waitThenReceive = whenReadable(receive)

  // No progress at all for `sendStallTimeout` while a sender waits (or, once asked by a liveness
  // check, while anything is held unsent): the peer reads nothing. The 1008 goes out first; then
  // the waiting sends fail with the stall itself (not with the Closed the close wakes them with).
  const stall = SendStall.make({
    timeout: sendStallTimeout,
    buffered: () => transport.bufferedAmount(),
    sentBytes: () => sentBytes,
    pending: () => state === "open" && (writers.length > 0 || transport.bufferedAmount() > 0),
    onStall: (error) => {
      const stalled = writers.splice(0)
      failAndClose(error, CloseCode.PolicyViolation, "send stalled")
      for (const writer of stalled) writer(Exit.fail(error))
      // The peer reads nothing: its answer to the close may never come either.
      return Effect.asVoid(withDeadline(awaitClosed, defaultCloseTimeout, terminateNow, { keepOnInterrupt: closeTimers }))
    }
  })

  const waitWritable: Effect.Effect<void, SocketError> = Effect.andThen(
    stall.start,
    Effect.callback<void, SocketError>((resume) => {
      if (state !== "open" || transport.bufferedAmount() < sendHighWater) return resume(Effect.void)
      const writer: Waiter = (exit) => resume(exit)
      writers.push(writer)
      return Effect.sync(() => {
        const index = writers.indexOf(writer)
        if (index >= 0) writers.splice(index, 1)
      })
    })
  )

  // Writes messages from `from` on while the transport has room and the socket is open: how
  // far it got. Plain code: the Effects around it only wait, or fail.
  const sendNow = (messages: ReadonlyArray<MessageSocket.Message>, from: number): number => {
    let index = from
    while (index < messages.length && state === "open" && transport.bufferedAmount() < sendHighWater) {
      const message = messages[index++]!
      const size = messageSize(message)
      sentBytes += size
      SocketMetrics.messagesSent.updateUnsafe(1, noContext)
      SocketMetrics.bytesSent.updateUnsafe(size, noContext)
      transport.write(message)
    }
    return index
  }

  const sendAll = (messages: ReadonlyArray<MessageSocket.Message>): Effect.Effect<void, SocketError> =>
    Effect.suspend(() => {
      let index = 0
      const loop: Effect.Effect<void, SocketError> = Effect.suspend(() => {
        index = sendNow(messages, index)
        if (index === messages.length) return Effect.void
        return state !== "open" ? Effect.fail(closedError()) : Effect.andThen(waitWritable, loop)
      })
      return loop
    })

  const send = (message: MessageSocket.Message): Effect.Effect<void, SocketError> => sendAll([message])

  const closeWith = (allowProtocolCodes: boolean) => (closeOptions?: MessageSocket.CloseOptions) =>
    Effect.flatMap(validateClose(closeOptions, allowProtocolCodes), ({ code, reason }) => {
      beginClose(code, reason)
      if (closeInfo !== undefined) return Effect.succeed(closeInfo)
      const timeout = closeOptions?.timeout === undefined
        ? defaultCloseTimeout
        : Duration.fromInputUnsafe(closeOptions.timeout)
      // A silent peer is dropped when the time is up, which completes the close (1006). The
      // deadline outlives whoever waits for it: a caller that gives up (`Effect.timeout`
      // around `close`) does not leave the connection half closed.
      return withDeadline(awaitClosed, timeout, terminateNow, { keepOnInterrupt: closeTimers })
    })

  const hub: Effect.Effect<PubSub.PubSub<MessageSocket.SocketEvent>> = Effect.suspend(() =>
    pubsub !== undefined
      ? Effect.succeed(pubsub)
      : Effect.map(PubSub.sliding<MessageSocket.SocketEvent>(constants.EVENTS_BUFFER), (created) => (pubsub ??= created))
  )

  const events: Stream.Stream<MessageSocket.SocketEvent> = Stream.unwrap(
    Effect.gen(function*() {
      const subscription = yield* PubSub.subscribe(yield* hub)
      return closeInfo !== undefined
        ? Stream.make(SocketEvent.Close({ info: closeInfo }))
        : Stream.fromSubscription(subscription).pipe(Stream.takeUntil(SocketEvent.$is("Close")))
    })
  )

  const socket: MessageSocket.MessageSocket = {
    [TypeId]: TypeId,
    get protocol() {
      return transport.protocol?.() ?? ""
    },
    receive,
    send,
    sendAll,
    close: closeWith(false),
    closeWithProtocolCode: closeWith(true),
    terminate: Effect.sync(terminateNow),
    closed: awaitClosed,
    events
  }

  const controller: Transport.Controller = {
    socket,
    onMessage: offer,
    onDrain: drained,
    onClose: closed,
    onError: fail,
    emit,
    state: () => state,
    receiveQueueSize: () => inbox.size,
    receivedMessages: () => received,
    receivePauses: () => pauses,
    receivePaused: () => inbox.paused,
    sendBuffered: () => state === "closed" ? 0 : transport.bufferedAmount(),
    watchSendStall: stall.start
  }
  try {
    transport = build(controller)
  } catch (cause) {
    openGauge--
    SocketMetrics.openConnections.updateUnsafe(openGauge, noContext)
    throw cause
  }
  return controller
}
