import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Take from "effect/Take"
import type * as ByteChannel from "../ByteChannel.js"
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

const defaultSchedule: Schedule.Schedule<unknown, SocketError | undefined> = Schedule.exponential("500 millis", 2).pipe(
  Schedule.either(Schedule.spaced("30 seconds")),
  Schedule.jitteredWith({ min: 0, max: 1 })
)

const defaultIsTerminalCode = (code: number) => code === 1008 || code === 1009 || (code >= 4000 && code <= 4099)

const isRefusal = (error: SocketError) => error.reason === "Open" && (error.status === 401 || error.status === 403)

/** @internal */
export const sessions = (
  url: string | URL,
  options?: Reconnect.ReconnectOptions
): Stream.Stream<ByteChannel.ByteChannel, SocketError, Connector.Connector> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const connector = yield* Connector.Connector
    const parent = yield* Effect.scope
    const emit = options?.onEvent ?? (() => Effect.void)
    const isTerminal = options?.isTerminalCode ?? defaultIsTerminalCode
    const minUptime = Duration.toMillis(options?.minUptime ?? "5 seconds")
    let attempt = 0
    let current: { readonly channel: ByteChannel.ByteChannel; readonly scope: Scope.CloseableScope; readonly since: number } | undefined
    let ended = false

    const driver = yield* Schedule.driver(
      Schedule.delays(options?.schedule ?? defaultSchedule).pipe(
        Schedule.tapInput((error: SocketError | undefined) => Effect.sync(() => lastError = error)),
        Schedule.tapOutput((delay) =>
          Effect.zipRight(
            Effect.sync(() => SocketMetrics.reconnects.unsafeUpdate(1, [])),
            emit(ReconnectEvent.Retrying({ attempt, delay, error: lastError }))
          )
        )
      )
    )
    let lastError: SocketError | undefined

    const giveUp = (reason: Reconnect.GaveUpReason, error: SocketError | undefined) =>
      Effect.zipRight(
        Effect.sync(() => ended = true),
        Effect.zipRight(emit(ReconnectEvent.GaveUp({ reason, error })), error ? Effect.fail(Option.some(error)) : Effect.fail(Option.none()))
      )

    const backoff = (error: SocketError | undefined) =>
      driver.next(error).pipe(Effect.catchAll(() => giveUp("Exhausted", error ?? lastError)))

    // Waits for the current session to end and decides whether to go on.
    const afterSession = Effect.gen(function*() {
      if (current === undefined) return
      const { channel, scope, since } = current
      const info = yield* channel.closed
      current = undefined
      yield* Scope.close(scope, Exit.void)
      yield* emit(ReconnectEvent.Disconnected({ info }))
      if (!info.local && info.code === 1000) return yield* giveUp("CleanClose", undefined)
      if (!info.local && isTerminal(info.code)) {
        return yield* giveUp("TerminalCode", new SocketError({ reason: "Closed", code: info.code, closeReason: info.reason }))
      }
      const now = yield* Clock.currentTimeMillis
      if (now - since >= minUptime) {
        attempt = 0
        yield* driver.reset
      }
      yield* backoff(undefined)
    })

    const connectOnce = Effect.gen(function*() {
      const scope = yield* Scope.fork(parent, ExecutionStrategy.sequential)
      // ByteChannel.connect, in this session's scope: closing it closes the channel.
      const channel = yield* connect(url, options).pipe(
        Effect.provideService(Connector.Connector, connector),
        Scope.extend(scope),
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      return { channel, scope }
    })

    const next: Effect.Effect<ByteChannel.ByteChannel, Option.Option<SocketError>> = Effect.gen(function*() {
      if (ended) return yield* Effect.fail(Option.none())
      yield* afterSession
      while (true) {
        attempt++
        yield* emit(ReconnectEvent.Connecting({ attempt }))
        const result = yield* Effect.either(connectOnce)
        if (result._tag === "Right") {
          yield* emit(ReconnectEvent.Connected({ attempt }))
          current = { ...result.right, since: yield* Clock.currentTimeMillis }
          return result.right.channel
        }
        const error = result.left
        if (isRefusal(error)) return yield* giveUp("Refused", error)
        yield* backoff(error)
      }
    })

    return Stream.repeatEffectOption(next)
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
    const outboxSize = options?.outboxSize ?? 1024
    const policy = options?.outboxPolicy ?? "suspend"
    const events = yield* PubSub.sliding<Reconnect.ReconnectEvent>(256)
    const inbox = yield* Queue.bounded<Take.Take<A, ByteChannel.ReadError | CodecError>>(options?.inboxSize ?? 256)
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

    const onEvent = (event: Reconnect.ReconnectEvent) =>
      Effect.zipRight(PubSub.publish(events, event), options?.onEvent?.(event) ?? Effect.void)

    // The scope closing ends everything, whatever the sessions were doing: queued sends fail,
    // `messages` and `events` end. (Finalizers run in reverse order: the sessions fiber, forked
    // below, is interrupted first, so nothing is handed to a socket after this.)
    yield* Effect.addFinalizer(() =>
      Effect.zipRight(failAll, Effect.zipRight(Queue.shutdown(inbox), PubSub.shutdown(events)))
    )

    // One session: pump decoded messages into the inbox while writing the outbox in order.
    const runSession = (channel: ByteChannel.ByteChannel) =>
      Effect.gen(function*() {
        const session = internalFramed.make(channel, codec)
        let lastReceived = yield* Clock.currentTimeMillis
        const isHeartbeat = options?.heartbeat?.isHeartbeat
        const reader = session.messages.pipe(
          Stream.tap(() => Clock.currentTimeMillis.pipe(Effect.map((now) => (lastReceived = now)))),
          Stream.filter((message) => isHeartbeat === undefined || !isHeartbeat(message)),
          Stream.runForEach((message) => Queue.offer(inbox, Take.of(message))),
          // A lost connection ends the session (the sessions decide what follows). A bad frame
          // from the peer ends them all: Framed has closed the connection (1009 or 1007); it is
          // reported as Disconnected, then the error ends `messages` (see framed's doc).
          Effect.catchAll((error) =>
            error._tag === "SocketError"
              ? Effect.void
              : Effect.flatMap(channel.closed, (info) => Effect.zipRight(onEvent(ReconnectEvent.Disconnected({ info })), Effect.fail(error)))
          )
        )
        const writer = Effect.gen(function*() {
          while (true) {
            const head = outbox[0]
            if (head === undefined) {
              yield* work.wait
              continue
            }
            // Only the wait for the socket is interruptible: once the bytes are handed over, the
            // message leaves the outbox before anything can interrupt, so it is never sent twice.
            // While it waits it is in flight: `dropOldest` drops the next one, never this one.
            inFlight = head
            const handed = yield* Effect.uninterruptibleMask((restore) =>
              Effect.flatMap(Effect.either(restore(channel.send(head.bytes))), (sent) => {
                inFlight = undefined
                // Not handed to the socket (it closed): it stays first in line for the next
                // session, unless its caller gave up on it meanwhile (then it is dropped: a retry
                // must not make it go twice).
                if (sent._tag === "Left") {
                  if (head.withdrawn) {
                    outbox.shift()
                    room.wakeAll()
                  }
                  return Effect.succeed(false)
                }
                outbox.shift()
                room.wakeAll()
                return Effect.as(Deferred.done(head.done, Exit.void), true)
              })
            ).pipe(Effect.onInterrupt(() => Effect.sync(() => (inFlight = undefined))))
            if (!handed) return
          }
        })
        const heartbeat = options?.heartbeat
        const watchdog = heartbeat === undefined ? Effect.never : Effect.gen(function*() {
          const ping = codec.encode(heartbeat.ping)
          const idle = Duration.toMillis(heartbeat.idleTimeout ?? Duration.times(Duration.decode(heartbeat.interval), 2))
          while (true) {
            yield* Effect.sleep(heartbeat.interval)
            if (ping._tag === "Right") yield* Effect.ignore(channel.send(ping.right))
            const now = yield* Clock.currentTimeMillis
            if (now - lastReceived >= idle) {
              // Silence for idleTimeout: a dead peer. Drop the session; the sessions reconnect.
              return yield* channel.socket.terminate
            }
          }
        })
        yield* Effect.raceFirst(reader, Effect.raceFirst(Effect.zipRight(writer, channel.closed), watchdog))
      })

    yield* sessions(url, { ...options, onEvent }).pipe(
      Stream.runForEach(runSession),
      Effect.exit,
      Effect.flatMap((exit) =>
        Effect.gen(function*() {
          if (Exit.isFailure(exit)) {
            const error = Cause.failureOption(exit.cause)
            if (Option.isSome(error) && error.value._tag !== "SocketError") {
              yield* onEvent(ReconnectEvent.GaveUp({ reason: "BadFrame", error: error.value }))
            }
          }
          yield* failAll
          yield* Queue.offer(inbox, Exit.isSuccess(exit) ? Take.end : Take.failCause(exit.cause))
        })
      ),
      Effect.forkScoped
    )

    const send = (value: A): Effect.Effect<void, NotSent | CodecError> =>
      Effect.gen(function*() {
        const encoded = codec.encode(value)
        if (encoded._tag === "Left") return yield* Effect.fail(encoded.left)
        while (!finished && outbox.length >= outboxSize) {
          if (policy === "fail") return yield* new NotSent({ reason: "OutboxFull" })
          if (policy === "dropOldest") {
            // The oldest not already being handed to the socket (that one may be on the wire).
            const victim = outbox[0] === inFlight ? 1 : 0
            if (victim < outbox.length) {
              const [dropped] = outbox.splice(victim, 1)
              yield* Deferred.fail(dropped!.done, new NotSent({ reason: "Dropped" }))
              break
            }
          }
          yield* room.wait
        }
        if (finished) return yield* new NotSent({ reason: "Ended" })
        const done = yield* Deferred.make<void, NotSent>()
        const entry: Pending = { bytes: encoded.right, done, withdrawn: false }
        outbox.push(entry)
        work.wakeAll()
        // An interrupted send withdraws its message (a caller that gives up and retries must
        // not have it sent twice), unless the writer is already handing it to a socket.
        return yield* Deferred.await(done).pipe(
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
      // The last Take (the end, or the failure) is put back: every later subscriber sees it too.
      messages: Stream.fromQueue(inbox).pipe(
        Stream.tap((take) => (Take.isSuccess(take) ? Effect.void : Queue.offer(inbox, take))),
        Stream.flattenTake
      ),
      send,
      events: Stream.fromPubSub(events),
      pending: Effect.sync(() => outbox.length)
    }
    return framedValue
  })
