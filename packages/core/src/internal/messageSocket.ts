import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import * as CloseCode from "../CloseCode.js"
import type * as MessageSocket from "../MessageSocket.js"
import type * as Transport from "../Transport.js"
import { type CloseArgumentError, SocketError } from "../SocketError.js"
import * as SocketMetrics from "../SocketMetrics.js"
import { validateClose } from "./close.js"
import { type Timer, withDeadline } from "./deadline.js"
import { Inbox, messageSize } from "./inbox.js"
import { SendStall, type SendStallHost } from "./sendStall.js"
import * as view from "./socketView.js"

/** @internal */
export const TypeId: typeof MessageSocket.TypeId = view.TypeId

/** @internal */
export const isMessageSocket = (u: unknown): u is MessageSocket.MessageSocket => Predicate.hasProperty(u, TypeId)

/** @internal */
export const SocketEvent = view.SocketEvent

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
  const engine = new Engine(view.configOf(options))
  openGauge++
  SocketMetrics.openConnections.updateUnsafe(openGauge, noContext)
  try {
    engine.transport = build(engine)
  } catch (cause) {
    openGauge--
    SocketMetrics.openConnections.updateUnsafe(openGauge, noContext)
    throw cause
  }
  return engine
}

const removeFrom = <A>(list: Array<A> | undefined, item: A) => {
  const index = list === undefined ? -1 : list.indexOf(item)
  if (index >= 0) list!.splice(index, 1)
}

/**
 * One socket's state and rules, as one object: what every connection needs is a field, what
 * only some use (waiting senders, close waiters, the events hub, the send-stall watch, the
 * Effects and callbacks handed out) is made on first use. The transport drives it through its
 * `Controller` callbacks; users see it through a `MessageSocket` (a small view over it).
 */
class Engine implements Transport.Controller, SendStallHost, view.ViewEngine {
  // Bound right after construction, once the controller exists: the transport's callbacks need it.
  transport: Transport.Transport = undefined as unknown as Transport.Transport
  readonly inbox = new Inbox()
  readonly socket: MessageSocket.MessageSocket = new view.Socket(this)
  private writers: Array<Waiter> | undefined = undefined
  // Fibers waiting for the close (a list, not a Deferred: nothing to allocate per socket).
  private closeWaiters: Array<(info: MessageSocket.CloseInfo) => void> | undefined = undefined
  private st: "open" | "closing" | "closed" = "open"
  closeInfo: MessageSocket.CloseInfo | undefined = undefined
  private localClose = false
  private received = 0
  private pauses = 0
  // Bytes handed to the transport so far: with the send buffer, how much of it drained.
  private sentBytes = 0
  // Close deadlines that outlive the caller who gave up on them: stopped when the socket closes.
  private closeTimers: Set<Timer> | undefined = undefined
  // Created by the first `events` subscriber: events before any subscription reach no one.
  pubsub: PubSub.PubSub<MessageSocket.SocketEvent> | undefined = undefined
  private stall: SendStall | undefined = undefined
  // Made on first use, then kept: the callbacks a transport may hold detached, and Effects.
  private bound: view.Bound | undefined = undefined
  cached: view.Cached | undefined = undefined

  constructor(readonly config: view.Config) {}

  // ---- the Controller: callbacks (safe to hold detached) ----

  get onMessage(): (message: MessageSocket.Message) => void {
    return (this.bound ??= {}).onMessage ??= (message) => this.offer(message)
  }
  get onDrain(): () => void {
    return (this.bound ??= {}).onDrain ??= () => this.drained()
  }
  get onClose(): (info: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => void {
    return (this.bound ??= {}).onClose ??= (info) => this.closed(info)
  }
  get onError(): (error: SocketError) => void {
    return (this.bound ??= {}).onError ??= (error) => this.fail(error)
  }
  get emit(): (event: MessageSocket.SocketEvent) => void {
    return (this.bound ??= {}).emit ??= (event) => this.publish(event)
  }
  get watchSendStall(): Effect.Effect<void> {
    return this.stallWatch().start
  }

  // ---- the Controller: queries ----

  state(): "open" | "closing" | "closed" { return this.st }
  receiveQueueSize(): number { return this.inbox.size }
  receivedMessages(): number { return this.received }
  receivePauses(): number { return this.pauses }
  receivePaused(): boolean { return this.inbox.paused }
  sendBuffered(): number { return this.st === "closed" ? 0 : this.transport.bufferedAmount() }

  // ---- the send-stall watch's view ----

  stallBuffered(): number { return this.transport.bufferedAmount() }
  stallSentBytes(): number { return this.sentBytes }
  stallPending(): boolean { return this.st === "open" && ((this.writers?.length ?? 0) > 0 || this.transport.bufferedAmount() > 0) }

  // No progress at all for `sendStallTimeout` while a sender waits (or, once asked by a liveness
  // check, while anything is held unsent): the peer reads nothing. The 1008 goes out first; then
  // the waiting sends fail with the stall itself (not with the Closed the close wakes them with).
  onStall(error: SocketError): Effect.Effect<void> {
    const stalled = this.writers?.splice(0) ?? []
    this.failAndClose(error, CloseCode.PolicyViolation, "send stalled")
    for (const writer of stalled) writer(Exit.fail(error))
    // The peer reads nothing: its answer to the close may never come either.
    return Effect.asVoid(this.closeDeadline(this.config.closeTimeout))
  }

  private stallWatch(): SendStall {
    return this.stall ??= new SendStall(this, this.config.sendStallTimeout)
  }

  // ---- plain rules ----

  publish(event: MessageSocket.SocketEvent): void {
    if (this.pubsub !== undefined) PubSub.publishUnsafe(this.pubsub, event)
  }

  closedError(): SocketError {
    return view.closedError(this.closeInfo)
  }

  private wakeWriters(exit: () => Exit.Exit<void, SocketError>): void {
    const writers = this.writers
    if (writers === undefined || writers.length === 0) return
    const result = exit()
    for (const writer of writers.splice(0)) writer(result)
  }

  private offer(message: MessageSocket.Message): void {
    const inbox = this.inbox
    if (this.st === "closed" || inbox.failure) return
    const { highBytes, highMessages } = this.config
    this.received++
    SocketMetrics.messagesReceived.updateUnsafe(1, noContext)
    SocketMetrics.bytesReceived.updateUnsafe(messageSize(message), noContext)
    const full = inbox.size >= highMessages || inbox.bytes >= highBytes
    // After a local close the transport is never paused again: it reads on until the peer's
    // close frame, which may sit behind data. What fits in the bounds is still delivered (a
    // reply to what we sent before closing); what does not is discarded.
    if (this.st === "closing" && this.localClose) {
      if (!full) inbox.push(message)
      return
    }
    inbox.push(message)
    if (!inbox.paused && (inbox.size >= highMessages || inbox.bytes >= highBytes)) {
      if (this.config.overflow === "fail") {
        this.failAndClose(
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
      this.pauses++
      this.transport.pause()
      this.publish(SocketEvent.ReceivePaused({ messages: inbox.size, bytes: inbox.bytes }))
    }
  }

  private afterTake(): void {
    const inbox = this.inbox
    if (inbox.paused && inbox.size <= this.config.lowMessages && inbox.bytes <= this.config.lowBytes) {
      inbox.paused = false
      this.publish(SocketEvent.ReceiveResumed({ messages: inbox.size, bytes: inbox.bytes }))
      this.transport.resume()
    }
  }

  // The transport failed (a protocol error it detected, a dead peer, an overflow, a stalled
  // send): this side is closing the connection, so sending is over now and the close is local.
  private fail(error: SocketError): void {
    const inbox = this.inbox
    if (inbox.failure || this.st === "closed") return
    inbox.failure = error
    if (this.st === "open") {
      this.st = "closing"
      this.localClose = true
      this.wakeWriters(() => Exit.fail(this.closedError()))
      this.readOnPastPause()
    }
    this.publish(SocketEvent.Error({ error }))
    if (inbox.size === 0) inbox.finish()
  }

  // This side fails the connection and closes it with `code`: the failure is recorded first, so a
  // transport whose close completes at once (onClose inside sendClose) still fails `receive`.
  private failAndClose(error: SocketError, code: number, reason: string): void {
    const inbox = this.inbox
    if (inbox.failure || this.st === "closed") return
    inbox.failure = error
    this.beginClose(code, reason)
    this.publish(SocketEvent.Error({ error }))
    if (inbox.size === 0) inbox.finish()
  }

  private closed(info: { readonly code: number; readonly reason: string; readonly wasClean: boolean }): void {
    if (this.st === "closed") return
    this.st = "closed"
    openGauge--
    SocketMetrics.openConnections.updateUnsafe(openGauge, noContext)
    const closeInfo = { code: info.code, reason: info.reason, wasClean: info.wasClean, local: this.localClose }
    this.closeInfo = closeInfo
    const inbox = this.inbox
    inbox.paused = false
    inbox.ended = true
    if (inbox.size === 0) inbox.finish()
    this.wakeWriters(() => Exit.fail(this.closedError()))
    // Nothing of a closed connection waits on: its timers end with it.
    this.stall?.stop()
    const timers = this.closeTimers
    if (timers !== undefined) {
      for (const timer of timers) timer.interruptUnsafe()
      timers.clear()
    }
    this.publish(SocketEvent.Close({ info: closeInfo }))
    const waiters = this.closeWaiters
    if (waiters !== undefined) for (const waiter of waiters.splice(0)) waiter(closeInfo)
  }

  private drained(): void {
    if ((this.writers?.length ?? 0) > 0 && this.transport.bufferedAmount() < this.config.sendHighWater) {
      this.wakeWriters(() => Exit.void)
    }
  }

  // A paused transport would never read the peer's close frame behind the unread data.
  private readOnPastPause(): void {
    if (!this.inbox.paused) return
    this.inbox.paused = false
    this.transport.resume()
  }

  beginClose(code: number, reason: string): void {
    if (this.st !== "open") return
    this.st = "closing"
    this.localClose = true
    this.wakeWriters(() => Exit.fail(this.closedError()))
    this.transport.sendClose(code, reason)
    this.readOnPastPause()
  }

  terminateNow(): void {
    if (this.st === "closed") return
    this.localClose = this.localClose || this.st === "open"
    try {
      this.transport.terminate()
    } finally {
      // Closed even when the transport's terminate throws: every close waiting on it must end.
      this.closed({ code: CloseCode.Abnormal, reason: "", wasClean: false })
    }
  }

  // ---- Effects ----

  awaitClosed(): Effect.Effect<MessageSocket.CloseInfo> {
    return Effect.callback((resume) => {
      if (this.closeInfo !== undefined) return resume(Effect.succeed(this.closeInfo))
      const waiter = (info: MessageSocket.CloseInfo) => resume(Effect.succeed(info))
      ;(this.closeWaiters ??= []).push(waiter)
      return Effect.sync(() => removeFrom(this.closeWaiters, waiter))
    })
  }

  // The deadline outlives whoever waits for it: a caller that gives up (`Effect.timeout` around
  // `close`) does not leave the connection half closed; a silent peer is dropped when the time
  // is up, which completes the close (1006).
  closeDeadline(timeout: Duration.Duration): Effect.Effect<MessageSocket.CloseInfo> {
    return withDeadline(this.socket.closed, timeout, () => this.terminateNow(), {
      keepOnInterrupt: this.closeTimers ??= new Set()
    })
  }

  receiveNow(
    wait: Effect.Effect<Option.Option<MessageSocket.Message>, SocketError>
  ): Effect.Effect<Option.Option<MessageSocket.Message>, SocketError> {
    const inbox = this.inbox
    if (inbox.size > 0) {
      const message = inbox.shift()
      this.afterTake()
      if (inbox.size === 0 && (inbox.ended || inbox.failure)) inbox.finish()
      return Effect.succeed(Option.some(message))
    }
    if (inbox.failure) return Effect.fail(inbox.failure)
    if (inbox.ended) return Effect.succeedNone
    return wait
  }

  waitWritable(): Effect.Effect<void, SocketError> {
    return Effect.andThen(
      this.stallWatch().start,
      Effect.callback<void, SocketError>((resume) => {
        if (this.st !== "open" || this.transport.bufferedAmount() < this.config.sendHighWater) {
          return resume(Effect.void)
        }
        const writer: Waiter = (exit) => resume(exit)
        ;(this.writers ??= []).push(writer)
        return Effect.sync(() => removeFrom(this.writers, writer))
      })
    )
  }

  private writable(): boolean { return this.st === "open" && this.transport.bufferedAmount() < this.config.sendHighWater }

  private write(message: MessageSocket.Message): void {
    const size = messageSize(message)
    this.sentBytes += size
    SocketMetrics.messagesSent.updateUnsafe(1, noContext)
    SocketMetrics.bytesSent.updateUnsafe(size, noContext)
    this.transport.write(message)
  }

  sendAll(messages: ReadonlyArray<MessageSocket.Message>): Effect.Effect<void, SocketError> {
    return Effect.suspend(() => this.sendFrom(messages, 0))
  }

  // One message, as `sendAll` of one, without the array around it.
  sendOne(message: MessageSocket.Message): Effect.Effect<void, SocketError> {
    return Effect.suspend(() => {
      if (!this.writable()) return this.sendFrom([message], 0)
      // Most sends fit at once: the message is written, nothing more is built.
      this.write(message)
      return Effect.void
    })
  }

  // Writes messages from `from` on while the transport has room and the socket is open (plain
  // code), then waits for room (or fails once the socket is closing) and goes on from there.
  private sendFrom(messages: ReadonlyArray<MessageSocket.Message>, from: number): Effect.Effect<void, SocketError> {
    let index = from
    while (index < messages.length && this.writable()) this.write(messages[index++]!)
    if (index === messages.length) return Effect.void
    if (this.st !== "open") return Effect.fail(this.closedError())
    return Effect.andThen(this.waitWritable(), Effect.suspend(() => this.sendFrom(messages, index)))
  }

  close(
    closeOptions: MessageSocket.CloseOptions | undefined,
    allowProtocolCodes: boolean
  ): Effect.Effect<MessageSocket.CloseInfo, CloseArgumentError> {
    return Effect.flatMap(validateClose(closeOptions, allowProtocolCodes), ({ code, reason }) => {
      this.beginClose(code, reason)
      if (this.closeInfo !== undefined) return Effect.succeed(this.closeInfo)
      return this.closeDeadline(
        closeOptions?.timeout === undefined ? this.config.closeTimeout : Duration.fromInputUnsafe(closeOptions.timeout)
      )
    })
  }
}
