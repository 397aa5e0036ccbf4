import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Pull from "effect/Pull"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ByteChannel from "../ByteChannel.js"
import * as CloseCode from "../CloseCode.js"
import * as constants from "./constants.js"
import type { Codec } from "../Codec.js"
import type { CodecError } from "../CodecError.js"
import * as Connector from "../Connector.js"
import type * as Reconnect from "../Reconnect.js"
import * as SocketMetrics from "../SocketMetrics.js"
import { SocketError } from "../SocketError.js"
import { connect } from "./byteChannel.js"
import * as internalFramed from "./framed.js"
import { Waiters } from "./waiters.js"


/** @internal */
export const ReconnectEvent = Data.taggedEnum<Reconnect.ReconnectEvent>()

/** @internal */
export class NotSent extends Data.TaggedError("NotSent")<{
  readonly reason: "OutboxFull" | "Dropped" | "Ended"
}> {
  override get message() {
    return `NotSent: ${this.reason}`
  }
}

/** Exponential from 500 ms, factor 2, capped at 30 s, full jitter (each delay times a random [0, 1)), forever. */
const defaultSchedule: Schedule.Schedule<unknown, SocketError | undefined> = Schedule.min([
  Schedule.exponential(constants.RECONNECT_DEFAULT_BACKOFF_BASE, constants.RECONNECT_DEFAULT_BACKOFF_FACTOR),
  Schedule.spaced(constants.RECONNECT_DEFAULT_BACKOFF_CAP)
]).pipe(Schedule.modifyDelay(({ duration }) => Effect.map(Random.next, (r) => Duration.times(duration, r))))

/** Close codes from the server that end the sessions: 1008, 1009 and 4000–4099. */
const defaultIsTerminalCode = (code: number) =>
  code === CloseCode.PolicyViolation || code === CloseCode.MessageTooBig || (code >= 4000 && code <= 4099)

const isRefusal = (error: SocketError) => error.reason === "Open" && (error.status === 401 || error.status === 403)

// Metric updates outside any fiber's context (the reconnect counter has no per-fiber tags).
const noContext = Context.empty()

/** @internal */
export const sessions = (
  url: string | URL,
  options?: Reconnect.ReconnectOptions
): Stream.Stream<ByteChannel.ByteChannel, SocketError, Connector.Connector> =>
  Stream.unwrap(Effect.gen(function*() {
    const connector = yield* Connector.Connector
    // The stream's scope: each session gets a child of it, closed when the session is over.
    const parent = yield* Effect.scope
    const emit = options?.onEvent ?? (() => Effect.void)
    const isTerminal = options?.isTerminalCode ?? defaultIsTerminalCode
    const minUptime = Duration.toMillis(options?.minUptime ?? constants.RECONNECT_DEFAULT_MIN_UPTIME)
    let attempt = 0
    let current: { readonly channel: ByteChannel.ByteChannel; readonly scope: Scope.Closeable; readonly since: number } | undefined

    // The schedule is fed the error (or `undefined` after a session ended); each step it takes
    // is announced (Retrying, with its delay) and counted before its delay is slept.
    const schedule = (options?.schedule ?? defaultSchedule).pipe(
      Schedule.tap(({ duration, input }) =>
        Effect.suspend(() => {
          SocketMetrics.reconnects.updateUnsafe(1, noContext)
          return emit(ReconnectEvent.Retrying({ attempt, delay: duration, error: input }))
        })
      )
    )
    // A fresh step starts the schedule over: that is how the backoff resets.
    let step = yield* Schedule.toStepWithSleep(schedule)

    // Ends the stream: with `error`, or cleanly (the pull's `Done`) when there is none.
    const giveUp = (reason: Reconnect.GaveUpReason, error: SocketError | undefined): Pull.Pull<never, SocketError> => {
      const end: Pull.Pull<never, SocketError> = error === undefined ? Cause.done() : Effect.fail(error)
      return Effect.andThen(emit(ReconnectEvent.GaveUp({ reason, error })), end)
    }

    // `error` feeds the schedule; when it gives up, the sessions fail with it (or with `lost`:
    // how the last session ended), never end quietly.
    const backoff = (error: SocketError | undefined, lost?: SocketError) =>
      step(error).pipe(Pull.catchDone(() => giveUp("Exhausted", error ?? lost)), Effect.asVoid)

    // Waits for the current session to end and decides whether to go on.
    const afterSession = Effect.gen(function*() {
      if (current === undefined) return
      const { channel, scope, since } = current
      const info = yield* channel.closed
      current = undefined
      yield* Scope.close(scope, Exit.void)
      yield* emit(ReconnectEvent.Disconnected({ info }))
      if (!info.local && info.code === CloseCode.Normal) return yield* giveUp("CleanClose", undefined)
      if (!info.local && isTerminal(info.code)) {
        return yield* giveUp("TerminalCode", new SocketError({ reason: "Closed", code: info.code, closeReason: info.reason }))
      }
      if ((yield* Clock.currentTimeMillis) - since >= minUptime) {
        attempt = 0
        step = yield* Schedule.toStepWithSleep(schedule)
      }
      return yield* backoff(undefined, new SocketError({ reason: "Closed", code: info.code, closeReason: info.reason }))
    })

    const connectOnce = Effect.gen(function*() {
      const scope = yield* Scope.fork(parent, "sequential")
      // ByteChannel.connect, in this session's scope: closing it closes the channel.
      const channel = yield* connect(url, options).pipe(
        Effect.provideService(Connector.Connector, connector),
        Scope.provide(scope),
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      return { channel, scope }
    })

    // One pull: the next connected channel, or the end (`Done`) or failure of the sessions.
    const next: Pull.Pull<ByteChannel.ByteChannel, SocketError> = Effect.gen(function*() {
      yield* afterSession
      while (true) {
        attempt++
        yield* emit(ReconnectEvent.Connecting({ attempt }))
        const result = yield* Effect.result(connectOnce)
        if (Result.isSuccess(result)) {
          yield* emit(ReconnectEvent.Connected({ attempt }))
          current = { ...result.success, since: yield* Clock.currentTimeMillis }
          return result.success.channel
        }
        const error = result.failure
        if (isRefusal(error)) return yield* giveUp("Refused", error)
        yield* backoff(error)
      }
    })

    return Stream.fromEffectRepeat(next)
  }))

interface Pending {
  // Encoded when queued: an encoding error fails `send` before the message enters the outbox.
  readonly bytes: Uint8Array
  readonly done: Deferred.Deferred<void, NotSent>
  /** Its caller was interrupted while it was in flight: if that hand-over fails, it is dropped. */
  withdrawn: boolean
}

/** @internal */
export const framed = <A>(url: string | URL, codec: Codec<A>, options?: Reconnect.FramedOptions<A>) =>
  Effect.gen(function*() {
    const outboxSize = options?.outboxSize ?? constants.RECONNECT_DEFAULT_OUTBOX_SIZE
    const policy = options?.outboxPolicy ?? "suspend"
    const events = yield* PubSub.sliding<Reconnect.ReconnectEvent>(constants.EVENTS_BUFFER)
    // Ended (`Done`) or failed once, when the sessions are over: every subscriber, then and
    // later, gets the messages left in it and then that end.
    const inbox = yield* Queue.bounded<A, ByteChannel.ReadError | CodecError | Cause.Done>(options?.inboxSize ?? constants.RECONNECT_DEFAULT_INBOX_SIZE)
    const outbox: Array<Pending> = []
    // The head while the writer hands it to the socket (it may already be on the wire).
    let inFlight: Pending | undefined
    const room = new Waiters()
    const work = new Waiters()
    // Set once, when the sessions end (clean close, terminal code, refusal, schedule exhausted,
    // a bad frame) or the scope closes: from then on every send fails at once with NotSent.
    let finished = false

    const failAll = Effect.suspend(() => {
      finished = true
      const all = outbox.splice(0)
      room.wakeAll()
      work.wakeAll()
      return Effect.forEach(all, (p) => Deferred.fail(p.done, new NotSent({ reason: "Ended" })), { discard: true })
    })

    // Handing a message to a socket runs in a fiber of its own, which nothing interrupts: an
    // interrupted `send` cannot tell whether its message was written, so the writer (which a
    // session's end does interrupt) only waits for the outcome. The socket settles it: written,
    // or refused (a closing socket fails its waiting sends at once). That outcome alone decides
    // whether the message leaves the outbox: handed once, or kept for the next session.
    let handing: { readonly channel: ByteChannel.ByteChannel; readonly outcome: Deferred.Deferred<boolean> } | undefined

    const handOver = (channel: ByteChannel.ByteChannel, head: Pending) =>
      Effect.map(Effect.result(channel.send(head.bytes)), (sent) => {
        inFlight = undefined
        const index = outbox.indexOf(head)
        // Refused, it stays first in line, unless its caller gave up on it meanwhile (then it
        // is dropped: a retry must not make it go twice).
        if (Result.isFailure(sent) && !head.withdrawn) return false
        if (index >= 0) {
          outbox.splice(index, 1)
          room.wakeAll()
        }
        if (Result.isFailure(sent)) return false
        Deferred.doneUnsafe(head.done, Exit.void)
        return true
      })

    // Starts the hand-over and records it in one uninterruptible step. While it runs, `head` is
    // in flight: `dropOldest` drops the next one, never this one.
    const startHandOver = (channel: ByteChannel.ByteChannel, head: Pending) =>
      Effect.uninterruptible(Effect.suspend(() => {
        const outcome = Deferred.makeUnsafe<boolean>()
        handing = { channel, outcome }
        inFlight = head
        return Effect.asVoid(
          Effect.forkDetach(Effect.flatMap(handOver(channel, head), (handed) => Deferred.succeed(outcome, handed)), {
            uninterruptible: true
          })
        )
      }))

    const onEvent = (event: Reconnect.ReconnectEvent) =>
      Effect.andThen(PubSub.publish(events, event), options?.onEvent?.(event) ?? Effect.void)

    // The scope closing ends everything, whatever the sessions were doing: queued sends fail,
    // `messages` and `events` end. (Finalizers run in reverse order: the sessions fiber, forked
    // below, is interrupted first, so nothing is handed to a socket after this.)
    yield* Effect.addFinalizer(() => Effect.andThen(failAll, Effect.andThen(Queue.end(inbox), PubSub.shutdown(events))))

    // One session: pump decoded messages into the inbox while writing the outbox in order.
    const runSession = (channel: ByteChannel.ByteChannel) =>
      Effect.gen(function*() {
        const session = internalFramed.make(channel, codec)
        let lastReceived = yield* Clock.currentTimeMillis
        const isHeartbeat = options?.heartbeat?.isHeartbeat
        const reader = session.messages.pipe(
          Stream.tap(() => Effect.map(Clock.currentTimeMillis, (now) => (lastReceived = now))),
          Stream.filter((message) => isHeartbeat === undefined || !isHeartbeat(message)),
          Stream.runForEach((message) => Queue.offer(inbox, message)),
          // A lost connection ends the session (the sessions decide what follows). A bad frame
          // from the peer ends them all: Framed has closed the connection (1009 or 1007); it is
          // reported as Disconnected, then the error ends `messages` (see framed's doc).
          Effect.catch((error) =>
            error._tag === "SocketError"
              ? Effect.void
              : Effect.flatMap(channel.closed, (info) => Effect.andThen(onEvent(ReconnectEvent.Disconnected({ info })), Effect.fail(error)))
          )
        )
        const writer = Effect.gen(function*() {
          while (true) {
            const pending = handing
            if (pending !== undefined) {
              // Ours, or the previous session's if it ended meanwhile (its socket is closed, so
              // it settles at once): the next message waits for it either way.
              const handed = yield* Deferred.await(pending.outcome)
              handing = undefined
              if (!handed && pending.channel === channel) return
              continue
            }
            const head = outbox[0]
            if (head === undefined) {
              yield* work.wait
              continue
            }
            yield* startHandOver(channel, head)
          }
        })
        const heartbeat = options?.heartbeat
        const watchdog = heartbeat === undefined ? Effect.never : Effect.gen(function*() {
          const ping = codec.encode(heartbeat.ping)
          const idle = heartbeat.idleTimeout === undefined
            ? 2 * Duration.toMillis(heartbeat.interval)
            : Duration.toMillis(heartbeat.idleTimeout)
          while (true) {
            yield* Effect.sleep(heartbeat.interval)
            if (Result.isSuccess(ping)) yield* Effect.ignore(channel.send(ping.success))
            if ((yield* Clock.currentTimeMillis) - lastReceived >= idle) {
              // Silence for idleTimeout: a dead peer. Drop the session; the sessions reconnect.
              return yield* channel.socket.terminate
            }
          }
        })
        yield* Effect.raceAllFirst([reader, Effect.andThen(writer, channel.closed), watchdog])
      })

    yield* sessions(url, { ...options, onEvent }).pipe(
      Stream.runForEach(runSession),
      // However the sessions end (also when the scope interrupts them): sends fail, and the
      // inbox ends, or fails with their error after the messages already in it. The last
      // hand-over settles first (its socket is closed by now): what it wrote counts as sent.
      Effect.onExit((exit) =>
        Effect.gen(function*() {
          if (handing !== undefined) yield* Deferred.await(handing.outcome)
          const failed = Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
          const error = failed ? Cause.findErrorOption(exit.cause) : Option.none()
          if (Option.isSome(error) && error.value._tag !== "SocketError") {
            yield* onEvent(ReconnectEvent.GaveUp({ reason: "BadFrame", error: error.value }))
          }
          yield* failAll
          yield* failed ? Queue.failCause(inbox, exit.cause) : Queue.end(inbox)
        })
      ),
      Effect.forkScoped
    )

    const send = (value: A): Effect.Effect<void, NotSent | CodecError> =>
      Effect.gen(function*() {
        const encoded = codec.encode(value)
        if (Result.isFailure(encoded)) return yield* Effect.fail(encoded.failure)
        const entry: Pending = { bytes: encoded.success, done: Deferred.makeUnsafe<void, NotSent>(), withdrawn: false }
        // Room is made and the message queued in one step: no one sees the outbox in between.
        let dropped: Pending | undefined
        while (!finished && outbox.length >= outboxSize) {
          if (policy === "fail") return yield* new NotSent({ reason: "OutboxFull" })
          if (policy === "dropOldest") {
            // The oldest not already being handed to the socket (that one may be on the wire).
            const victim = outbox[0] === inFlight ? 1 : 0
            if (victim < outbox.length) {
              dropped = outbox.splice(victim, 1)[0]
              break
            }
          }
          yield* room.wait
        }
        if (finished) return yield* new NotSent({ reason: "Ended" })
        outbox.push(entry)
        work.wakeAll()
        if (dropped !== undefined) Deferred.doneUnsafe(dropped.done, Exit.fail(new NotSent({ reason: "Dropped" })))
        // An interrupted send withdraws its message (a caller that gives up and retries must
        // not have it sent twice), unless the writer is already handing it to a socket.
        return yield* Deferred.await(entry.done).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              const index = outbox.indexOf(entry)
              if (index < 0) return
              if (entry === inFlight) {
                entry.withdrawn = true
                return
              }
              outbox.splice(index, 1)
              room.wakeAll()
            })
          )
        )
      })

    const framedValue: Reconnect.ReconnectingFramed<A> = {
      messages: Stream.fromQueue(inbox),
      send,
      events: Stream.fromPubSub(events),
      pending: Effect.sync(() => outbox.length)
    }
    return framedValue
  })
