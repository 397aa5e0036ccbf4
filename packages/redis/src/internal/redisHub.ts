/**
 * The Redis `Hub`: an in-process hub for this process's subscribers, one Redis stream per topic
 * between processes. Two connections per process: one for commands (`XADD`, `XREVRANGE`,
 * `INFO`, `CLIENT UNBLOCK`), one blocked in `XREAD` on every subscribed topic. Each entry
 * carries its publisher's id and a per-topic sequence number, so readers drop their own
 * entries (delivered locally at publish), drop duplicates (re-added after a reconnect) and count
 * gaps (lost entries). That bookkeeping is plain TypeScript in `entries.ts`; this file is the
 * Effect shell around ioredis.
 *
 * @internal
 */
import { Hub } from "@bytechannel/core"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"
import { randomBytes } from "node:crypto"
import type { RedisHubEvent as RedisHubEventType, RedisHubOptions } from "../RedisHub.js"
import * as constants from "./constants.js"
import { type Entry, fromFields, Heard, Ring, Sequences, toFields } from "./entries.js"

/** @internal */
export class RedisError extends Data.TaggedError("RedisError")<{
  readonly reason: "Connect" | "Command" | "Timeout" | "Closed"
  readonly detail: string
}> {
  override get message() {
    return `${this.reason}: ${this.detail}`
  }
}

/** @internal */
export const RedisHubEvent = Data.taggedEnum<RedisHubEventType>()

/** @internal */
export const dropped = Metric.counter("bytechannel_redis_hub_dropped", {
  description: "Messages a process dropped from its outbox to Redis (full while Redis was unreachable)",
  incremental: true
})

/** @internal */
export const lost = Metric.counter("bytechannel_redis_hub_lost", {
  description: "Messages a process found missing in another publisher's sequence (trimmed, or lost beyond the replay window)",
  incremental: true
})

interface Interest {
  refs: number
  /** The id after which this process reads the topic; unknown until Redis was reached. */
  position: string | undefined
  readonly ready: Deferred.Deferred<void>
}

/** A one-shot wake-up for a loop waiting on state changes made in plain code. */
class Signal {
  private waiter: (() => void) | undefined
  private pending = false
  notify() {
    this.pending = true
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.()
  }
  readonly wait: Effect.Effect<void> = Effect.async<void>((resume) => {
    if (this.pending) {
      this.pending = false
      resume(Effect.void)
      return
    }
    this.waiter = () => {
      this.pending = false
      resume(Effect.void)
    }
    return Effect.sync(() => {
      this.waiter = undefined
    })
  })
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))

const defaultSchedule: Schedule.Schedule<unknown, RedisError> = Schedule.exponential(
  Duration.millis(constants.RECONNECT_BASE_MILLIS),
  2
).pipe(
  Schedule.either(Schedule.spaced(Duration.millis(constants.RECONNECT_MAX_MILLIS))),
  Schedule.jittered
)

const positive = (name: string, value: number, min = 1) => {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`RedisHub: ${name} must be an integer >= ${min}, got ${value}`)
  return value
}

/** @internal */
export const make = (options: RedisHubOptions): Effect.Effect<Hub.HubService, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.keyPrefix ?? constants.DEFAULT_KEY_PREFIX
    const maxLen = positive("maxLen", options.maxLen ?? constants.DEFAULT_MAX_LEN)
    const readCount = positive("readCount", options.readCount ?? constants.DEFAULT_READ_COUNT)
    const replaySize = positive("replaySize", options.replaySize ?? constants.DEFAULT_REPLAY_SIZE, 0)
    const blockMillis = positive("blockTimeout", Duration.toMillis(options.blockTimeout ?? constants.DEFAULT_BLOCK_MILLIS))
    const commandTimeout = Duration.millis(
      positive("commandTimeout", Duration.toMillis(options.commandTimeout ?? constants.DEFAULT_COMMAND_TIMEOUT_MILLIS))
    )
    const connectTimeout = positive("connectTimeout", Duration.toMillis(options.connectTimeout ?? constants.DEFAULT_CONNECT_TIMEOUT_MILLIS))
    const schedule = options.schedule ?? defaultSchedule
    const onEvent = options.onEvent ?? (() => Effect.void)
    const nodeId = options.nodeId ?? randomBytes(8).toString("hex")

    const local = Hub.make()
    const seqs = new Sequences()
    const outbox = new Ring<Entry>(positive("outboxSize", options.outboxSize ?? constants.DEFAULT_OUTBOX_SIZE))
    const replay = new Ring<Entry>(replaySize)
    let inflight: Array<Entry> = []
    const outboxReady = new Signal()
    const interestChanged = new Signal()
    const interests = new Map<string, Interest>()
    const heard = new Heard(constants.MAX_TRACKED_PUBLISHERS)
    let runId: string | undefined
    let session: { readonly writer: Redis; readonly readerId: number } | undefined
    let droppedPending = 0

    // ---- commands, each with a deadline ------------------------------------------------------

    const command = <A>(what: string, run: () => Promise<A>, timeout: Duration.Duration = commandTimeout) =>
      Effect.tryPromise({
        try: run,
        catch: (error) => new RedisError({ reason: "Command", detail: `${what}: ${describe(error)}` })
      }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new RedisError({ reason: "Timeout", detail: `${what}: no reply within ${Duration.format(timeout)}` })
        })
      )

    const connect = (role: string) =>
      Effect.acquireRelease(
        Effect.async<Redis, RedisError>((resume) => {
          const redisOptions: RedisOptions = {
            ...options.redisOptions,
            // Reconnection is ours (the Schedule), never ioredis's; nothing is queued while down.
            lazyConnect: true,
            enableOfflineQueue: false,
            retryStrategy: () => null,
            maxRetriesPerRequest: 0,
            autoResubscribe: false,
            autoResendUnfulfilledCommands: false,
            connectTimeout,
            connectionName: `bytechannel-hub-${role}-${nodeId}`
          }
          const client = new Redis(options.url, redisOptions as Omit<RedisOptions, "replyMapping">)
          // Failures reach us through commands and the close listener; ioredis must not log them.
          client.on("error", () => {})
          client.connect().then(
            () => resume(Effect.succeed(client)),
            (error: unknown) => {
              client.disconnect()
              resume(Effect.fail(new RedisError({ reason: "Connect", detail: `${options.url}: ${describe(error)}` })))
            }
          )
          return Effect.sync(() => client.disconnect())
        }),
        (client) => Effect.sync(() => client.disconnect())
      )

    const key = (topic: string) => `${prefix}${topic}`

    const latestId = (writer: Redis, topic: string) =>
      command("XREVRANGE", () => writer.xrevrange(key(topic), "+", "-", "COUNT", 1)).pipe(
        Effect.map((entries) => entries[0]?.[0] ?? "0-0")
      )

    // ---- writing: the outbox to Redis, at least once; readers drop the duplicates -------------

    const xadd = (writer: Redis, entries: ReadonlyArray<Entry>) =>
      Effect.gen(function*() {
        for (let at = 0; at < entries.length; at += constants.WRITE_BATCH) {
          const batch = entries.slice(at, at + constants.WRITE_BATCH)
          const pipeline = writer.pipeline()
          for (const entry of batch) {
            pipeline.xadd(key(entry.topic), "MAXLEN", "~", maxLen, "*", ...toFields(nodeId, entry))
          }
          const results = yield* command("XADD", () => pipeline.exec())
          for (const [error] of results ?? []) {
            // A reply error (say, the key holds another type) is about that entry: it is dropped.
            if (error !== null && error.name !== "ReplyError") {
              return yield* new RedisError({ reason: "Command", detail: `XADD: ${error.message}` })
            }
            if (error !== null) droppedPending++
          }
        }
      })

    const writeLoop = (writer: Redis, restarted: boolean) =>
      Effect.gen(function*() {
        // Redis lost what it had (a restart without persistence): add again what it acknowledged.
        if (restarted) yield* xadd(writer, replay.toArray())
        while (true) {
          if (inflight.length === 0) {
            if (outbox.size === 0) yield* outboxReady.wait
            inflight = outbox.take(constants.WRITE_BATCH)
            if (inflight.length === 0) continue
          }
          yield* xadd(writer, inflight)
          for (const entry of inflight) replay.push(entry)
          inflight = []
          yield* flushDropped
        }
      })

    const flushDropped = Effect.suspend(() => {
      if (droppedPending === 0) return Effect.void
      const count = droppedPending
      droppedPending = 0
      return Metric.incrementBy(dropped, count).pipe(Effect.zipRight(onEvent(RedisHubEvent.Dropped({ count }))))
    })

    // ---- reading: every subscribed topic, from the last id seen --------------------------------

    const deliver = (topic: string, id: string, fields: ReadonlyArray<Buffer>, lostCounts: Map<string, number>) => {
      const interest = interests.get(topic)
      if (interest === undefined) return undefined
      interest.position = id
      const entry = fromFields(fields)
      if (entry === undefined) return undefined // not ours
      if (entry.origin === nodeId) return undefined // delivered locally when published
      // A duplicate (added again after a reconnect) is dropped; a gap is counted in lostCounts.
      return heard.accept(topic, entry.origin, entry.seq, lostCounts) ? entry.payload : undefined
    }

    type XReadReply = Array<[Buffer, Array<[Buffer, Array<Buffer>]>]> | null

    const readLoop = (reader: Redis) =>
      Effect.gen(function*() {
        while (true) {
          const topics: Array<string> = []
          const ids: Array<string> = []
          for (const [topic, interest] of interests) {
            if (interest.position === undefined) continue
            topics.push(key(topic))
            ids.push(interest.position)
          }
          if (topics.length === 0) {
            yield* interestChanged.wait
            continue
          }
          const reply = (yield* command(
            "XREAD",
            () => reader.xreadBuffer("COUNT", readCount, "BLOCK", blockMillis, "STREAMS", ...topics, ...ids) as Promise<XReadReply>,
            Duration.sum(Duration.millis(blockMillis), commandTimeout)
          ))
          if (reply === null) continue // timed out, or unblocked for a new topic
          const lostCounts = new Map<string, number>()
          for (const [streamKey, entries] of reply) {
            const topic = streamKey.toString("utf8").slice(prefix.length)
            for (const [id, fields] of entries) {
              const payload = deliver(topic, id.toString("latin1"), fields, lostCounts)
              if (payload !== undefined) yield* local.publish(topic, payload)
            }
          }
          for (const [topic, count] of lostCounts) {
            yield* Metric.incrementBy(lost, count)
            yield* onEvent(RedisHubEvent.Lost({ topic, count }))
          }
        }
      })

    // ---- sessions: both connections, until either fails; then the Schedule --------------------

    const runSession = (connected: () => void) =>
      Effect.gen(function*() {
        const writer = yield* connect("writer")
        const reader = yield* connect("reader")
        const closed = yield* Deferred.make<never, RedisError>()
        for (const client of [writer, reader]) {
          client.once("close", () => Deferred.unsafeDone(closed, Exit.fail(new RedisError({ reason: "Closed", detail: "the connection to Redis closed" }))))
        }
        const info = yield* command("INFO", () => writer.info("server"))
        const readerId = Number(yield* command("CLIENT ID", () => reader.client("ID")))
        const currentRunId = /run_id:(\w+)/.exec(info)?.[1] ?? ""
        const restarted = runId !== undefined && currentRunId !== runId
        runId = currentRunId
        for (const [topic, interest] of interests) {
          // After a restart the streams hold only what was added since: read them from the start.
          if (restarted) interest.position = "0-0"
          else if (interest.position === undefined) interest.position = yield* latestId(writer, topic)
          yield* Deferred.succeed(interest.ready, undefined)
        }
        session = { writer, readerId }
        yield* Effect.addFinalizer(() => Effect.sync(() => (session = undefined)))
        connected()
        yield* onEvent(RedisHubEvent.Connected({ runId: currentRunId, restarted, replayed: restarted ? replay.size : 0 }))
        return yield* Effect.raceFirst(writeLoop(writer, restarted), Effect.raceFirst(readLoop(reader), Deferred.await(closed)))
      }).pipe(Effect.scoped)

    const supervise = Effect.gen(function*() {
      const driver = yield* Schedule.driver(schedule)
      while (true) {
        let connected = false
        const error = yield* Effect.flip(runSession(() => (connected = true)))
        if (connected) {
          yield* driver.reset
          yield* onEvent(RedisHubEvent.Disconnected({ error }))
        }
        const next = yield* Effect.either(driver.next(error))
        if (next._tag === "Left") return yield* onEvent(RedisHubEvent.GaveUp({ error }))
      }
    })
    yield* Effect.forkScoped(supervise)
    // Closing: what still waits for Redis is sent once more, within a command's deadline.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        const current = session
        const pending = [...inflight, ...outbox.take(outbox.size)]
        return current === undefined || pending.length === 0 ? Effect.void : Effect.ignore(xadd(current.writer, pending))
      })
    )

    // ---- the service --------------------------------------------------------------------------

    const addInterest = (topic: string) =>
      Effect.gen(function*() {
        const existing = interests.get(topic)
        if (existing !== undefined) {
          existing.refs++
          return yield* Deferred.await(existing.ready)
        }
        const interest: Interest = { refs: 1, position: undefined, ready: yield* Deferred.make<void>() }
        interests.set(topic, interest)
        const current = session
        if (current !== undefined) {
          // Start at the stream's end now, so that everything published from here on is read.
          const position = yield* Effect.option(latestId(current.writer, topic))
          if (position._tag === "Some" && interest.position === undefined) interest.position = position.value
          yield* Effect.ignore(command("CLIENT UNBLOCK", () => current.writer.client("UNBLOCK", current.readerId)))
        }
        interestChanged.notify()
        yield* Deferred.succeed(interest.ready, undefined)
      })

    const removeInterest = (topic: string) =>
      Effect.sync(() => {
        const interest = interests.get(topic)
        if (interest === undefined || --interest.refs > 0) return
        interests.delete(topic)
        heard.forget(topic)
      })

    const publish = (topic: string, message: Uint8Array): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (outbox.push({ topic, seq: seqs.next(topic), payload: message })) droppedPending++
        outboxReady.notify()
        return droppedPending > 0 && session === undefined ? Effect.zipRight(flushDropped, local.publish(topic, message)) : local.publish(topic, message)
      })

    const subscribe = (topic: string, subscribeOptions?: Hub.SubscribeOptions) =>
      Effect.gen(function*() {
        const stream = yield* local.subscribe(topic, subscribeOptions)
        yield* Effect.acquireRelease(addInterest(topic), () => removeInterest(topic))
        return stream
      })

    return { publish, subscribe }
  })
