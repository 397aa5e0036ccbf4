import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as CloseCode from "../CloseCode.js"
import type * as MessageSocket from "../MessageSocket.js"
import type * as Transport from "../Transport.js"
import { CloseArgumentError, SocketError } from "../SocketError.js"
import * as SocketMetrics from "../SocketMetrics.js"
import * as constants from "./constants.js"
import { withDeadline } from "./deadline.js"
import { Inbox, messageSize } from "./inbox.js"

/** @internal */
export const TypeId: typeof MessageSocket.TypeId = Symbol.for("@bytechannel/core/MessageSocket") as any

/**
 * The engine's receive queue, for `ByteChannel`'s read path: a queued message without the
 * `Option` and the `Effect` around it, and a wait that resumes straight into the next read.
 *
 * @internal
 */
export const Fast = Symbol.for("@bytechannel/core/MessageSocket/fast")

/** @internal */
export interface Fast {
  /** The socket's own `receive`: a wrapper that replaces it (a spread with its own) is read through it. */
  readonly receive: MessageSocket.MessageSocket["receive"]
  /** The next queued message, taken; `undefined` when none is queued (at the end too: `receive` tells the end). */
  readonly take: () => MessageSocket.Message | undefined
  /** Runs `next` once a message is queued or the input ended or failed (at once when so now). */
  readonly whenReadable: <A, E>(next: Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** The socket's own `sendAll`, as for `receive`. */
  readonly sendAll: MessageSocket.MessageSocket["sendAll"]
  /**
   * Writes the messages from `from` on while the transport has room and the socket is open,
   * with no Effect: how far it got. What is left goes through `sendAll` (to wait, or to fail).
   */
  readonly sendNow: (messages: ReadonlyArray<MessageSocket.Message>, from: number) => number
}

/** The engine's fast path of `socket`, when it is one of the engine's. @internal */
export const fastOf = (socket: MessageSocket.MessageSocket): Fast | undefined => {
  const fast = (socket as { readonly [Fast]?: Fast })[Fast]
  return fast !== undefined && fast.receive === socket.receive && fast.sendAll === socket.sendAll ? fast : undefined
}

/** @internal */
export const isMessageSocket = (u: unknown): u is MessageSocket.MessageSocket => Predicate.hasProperty(u, TypeId)

/** @internal */
export const SocketEvent = Data.taggedEnum<MessageSocket.SocketEvent>()

const utf8 = new TextEncoder()


/** @internal */
export const validateClose = (
  options: MessageSocket.CloseOptions | undefined,
  allowProtocolCodes = false
): Effect.Effect<{ readonly code: number; readonly reason: string }, CloseArgumentError> => {
  const code = options?.code ?? CloseCode.Normal
  const reason = options?.reason ?? ""
  if (!Number.isInteger(code) || !(allowProtocolCodes ? CloseCode.isSendable(code) : CloseCode.isApplicationCode(code))) {
    return Effect.fail(new CloseArgumentError({ reason: "InvalidCode", code, closeReason: reason }))
  }
  // Cheap length check first: a UTF-16 string of n units encodes to at most 3n bytes.
  if (reason.length * 3 > CloseCode.MAX_REASON_BYTES && utf8.encode(reason).length > CloseCode.MAX_REASON_BYTES) {
    return Effect.fail(new CloseArgumentError({ reason: "ReasonTooLong", code, closeReason: reason }))
  }
  return Effect.succeed({ code, reason })
}


// Open sockets in this process, for the gauge (a gauge is set, not incremented).
let openGauge = 0

type Waiter<A> = (exit: Exit.Exit<A, SocketError>) => void

/** @internal */
export const makeWith = (
  build: (controller: Transport.Controller) => Transport.Transport,
  options?: Transport.TransportOptions
): Effect.Effect<Transport.Controller> =>
  Effect.sync(() => unsafeMake(build, options))

/** @internal */
export const make = (
  transport: MessageSocket.Transport,
  options?: MessageSocket.ControllerOptions
): Effect.Effect<MessageSocket.Controller> =>
  Effect.sync(() => unsafeMake(() => transport, options))

const unsafeMake = (
  build: (controller: Transport.Controller) => Transport.Transport,
  options: Transport.TransportOptions | undefined
): MessageSocket.Controller => {
  // Bound right below, once the controller exists: the transport's callbacks need it.
  let transport: Transport.Transport = undefined as unknown as Transport.Transport
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
  // Fibers waiting for the close (a list, not a Deferred: one of those costs a few KB a socket).
  const closeWaiters: Array<(info: MessageSocket.CloseInfo) => void> = []
  let state: "open" | "closing" | "closed" = "open"
  let closeInfo: MessageSocket.CloseInfo | undefined
  let localClose = false
  let received = 0
  let pauses = 0

  // Created by the first `events` subscriber: events before any subscription reach no one, so
  // most connections never pay for the buffer.
  let pubsub: PubSub.PubSub<MessageSocket.SocketEvent> | undefined
  const emit = (event: MessageSocket.SocketEvent) => {
    pubsub?.unsafeOffer(event)
  }

  const awaitClosed: Effect.Effect<MessageSocket.CloseInfo> = Effect.async((resume) => {
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
        beginClose(CloseCode.MessageTooBig, "receive buffer full")
        fail(
          new SocketError({
            reason: "ReceiveOverflow",
            code: CloseCode.MessageTooBig,
            detail: `more than ${highMessages} messages or ${highBytes} bytes unread`
          })
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

  // The transport failed (a protocol error it detected, a dead peer, an overflow): this side is
  // closing the connection, so sending is over now and the close counts as local.
  const fail = (error: SocketError) => {
    if (inbox.failure || state === "closed") return
    inbox.failure = error
    if (state === "open") {
      state = "closing"
      localClose = true
      wakeWriters(failWriters)
      readOnPastPause()
    }
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
    const done = closeInfo
    for (const waiter of closeWaiters.splice(0)) waiter(done)
  }

  const drained = () => {
    if (writers.length > 0 && transport.bufferedAmount() < sendHighWater) wakeWriters(() => Exit.void)
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
    wakeWriters(failWriters)
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

  // The message at the head of the queue, taken now; `undefined` when none is queued.
  const take = (): MessageSocket.Message | undefined => {
    if (inbox.size === 0) return undefined
    const message = inbox.shift()
    afterTake()
    if (inbox.size === 0 && (inbox.ended || inbox.failure)) inbox.finish()
    return message
  }

  // Runs `next` once a message is queued or the input ended or failed: a reader that waits
  // costs one resumption, straight into `next`. The condition is checked again as the waker
  // registers: the fiber may have yielded between the caller's check and here (its op budget),
  // and a wake-up in that gap would be lost. Woken readers take their message themselves, in
  // their own fiber, so one interrupted after its wake-up loses nothing (cancel-safe reads).
  const whenReadable = <A, E>(next: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.async<A, E>((resume) => {
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
    const message = take()
    if (message !== undefined) return Effect.succeed(Option.some(message))
    if (inbox.failure) return Effect.fail(inbox.failure)
    if (inbox.ended) return Effect.succeedNone
    return waitThenReceive
  })
  const waitThenReceive = whenReadable(receive)

  const waitWritable = Effect.async<void, SocketError>((resume) => {
    if (state !== "open" || transport.bufferedAmount() < sendHighWater) return resume(Effect.void)
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
  // Writes messages from `from` on while the transport has room and the socket is open: how
  // far it got. Plain code: the Effects below only wait, or fail.
  const sendNow = (messages: ReadonlyArray<MessageSocket.Message>, from: number): number => {
    let index = from
    while (index < messages.length && state === "open" && transport.bufferedAmount() < sendHighWater) {
      const message = messages[index++]!
      SocketMetrics.messagesSent.unsafeUpdate(1, [])
      SocketMetrics.bytesSent.unsafeUpdate(messageSize(message), [])
      transport.write(message)
    }
    return index
  }

  // The hot path of bulk writes: a plain loop while the transport has room, an Effect only to wait.
  const sendAll = (messages: ReadonlyArray<MessageSocket.Message>): Effect.Effect<void, SocketError> =>
    Effect.suspend(() => {
      let index = 0
      const loop: Effect.Effect<void, SocketError> = Effect.suspend(() => {
        index = sendNow(messages, index)
        if (index === messages.length) return Effect.void
        return state !== "open" ? Effect.fail(closedError()) : Effect.zipRight(waitWritable, loop)
      })
      return loop
    })

  const closeWith = (allowProtocolCodes: boolean) => (closeOptions?: MessageSocket.CloseOptions) =>
    Effect.flatMap(validateClose(closeOptions, allowProtocolCodes), ({ code, reason }) => {
      beginClose(code, reason)
      if (closeInfo !== undefined) return Effect.succeed(closeInfo)
      const timeout = closeOptions?.timeout === undefined ? defaultCloseTimeout : Duration.decode(closeOptions.timeout)
      // A silent peer is dropped when the time is up, which completes the close (1006).
      return withDeadline(awaitClosed, timeout, terminateNow)
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

  const socket: MessageSocket.MessageSocket & { readonly [Fast]: Fast } = {
    [TypeId]: TypeId,
    [Fast]: { receive, take, whenReadable, sendAll, sendNow },
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

  const controller: MessageSocket.Controller = {
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
    // Deprecated names (MessageSocket.Controller).
    offer,
    drained,
    closed,
    fail
  }
  transport = build(controller)
  return controller
}

/** @internal */
export const closeOnScopeClose = (
  socket: MessageSocket.MessageSocket,
  options?: MessageSocket.CloseOptions
): Effect.Effect<void, never, Scope.Scope> =>
  // The scope's own list, not `Effect.addFinalizer` (which saves and restores the fiber's refs
  // around the finalizer, a diff and a patch of every fiber ref on every connection).
  // Uninterruptible as `Effect.addFinalizer`'s are, whoever closes the scope.
  Effect.scopeWith((scope) =>
    Scope.addFinalizer(
      scope,
      socket.closeWithProtocolCode(options ?? {}).pipe(
        Effect.catchAll(() => socket.terminate),
        Effect.asVoid,
        Effect.uninterruptible
      )
    )
  )
