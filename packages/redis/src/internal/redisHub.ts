/**
 * The Redis `Hub`: an in-process hub for this process's subscribers, one Redis stream per topic
 * between processes. Two connections per process (`connection.ts`: each opened and each command
 * run under the library's deadlines): a writer for commands (`XADD` + `PEXPIRE`, `XREVRANGE`,
 * `INFO`) and a reader blocked in `XREAD` on every subscribed topic and on this process's wake
 * stream. Each entry carries its publisher's id and a per-topic sequence number, so readers drop
 * their own entries (delivered locally at publish), drop duplicates (re-added after a reconnect)
 * and count gaps (lost entries). That bookkeeping is plain TypeScript in `entries.ts`; this file
 * is the Effect shell around ioredis.
 *
 * @internal
 */
import * as Hub from "@bytechannel/core/Hub"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import * as Metric from "effect/Metric"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { createHash, randomBytes } from "node:crypto"
import type { RedisHubEvent as RedisHubEventType, RedisHubOptions } from "../RedisHub.js"
import { closed, command as runCommand, open, RedisError } from "./connection.js"
import * as constants from "./constants.js"
import { type Entry, fromFields, Heard, Ring, Sequences, toFields } from "./entries.js"

export { RedisError } from "./connection.js"

/** @internal */
export const RedisHubEvent = Data.taggedEnum<RedisHubEventType>()

/** @internal */
export const dropped = Metric.counter("bytechannel_redis_hub_dropped", {
  description: "Messages a process dropped from its outbox to Redis (full while Redis was unreachable, or refused: the topic's key holds another type)",
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

const defaultSchedule: Schedule.Schedule<unknown, RedisError> = Schedule.min([
  Schedule.exponential(Duration.millis(constants.RECONNECT_BASE_MILLIS), 2),
  Schedule.spaced(Duration.millis(constants.RECONNECT_MAX_MILLIS))
]).pipe(Schedule.jittered)

const positive = (name: string, value: number, min = 1) => {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`RedisHub: ${name} must be an integer >= ${min}, got ${value}`)
  return value
}

const millis = (name: string, input: Duration.Input | undefined, fallback: number) =>
  positive(name, Duration.toMillis(input ?? fallback))

type XReadReply = Array<[Buffer, Array<[Buffer, Array<Buffer>]>]> | null

/**
 * `PEXPIRE` of a key that holds a stream, and of nothing else (`KEYS[1]`, `ARGV[1]` milliseconds):
 * loaded once per session (`SCRIPT LOAD`), run by its digest.
 */
const EXPIRE_STREAM = "if redis.call('TYPE', KEYS[1]).ok == 'stream' then return redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return 0"
const EXPIRE_STREAM_SHA = createHash("sha1").update(EXPIRE_STREAM).digest("hex")

/** @internal */
export const make = (options: RedisHubOptions): Effect.Effect<Hub.HubService, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.keyPrefix ?? constants.DEFAULT_KEY_PREFIX
    const maxLen = positive("maxLen", options.maxLen ?? constants.DEFAULT_MAX_LEN)
    const readCount = positive("readCount", options.readCount ?? constants.DEFAULT_READ_COUNT)
    const replaySize = positive("replaySize", options.replaySize ?? constants.DEFAULT_REPLAY_SIZE, 0)
    const blockMillis = millis("blockTimeout", options.blockTimeout, constants.DEFAULT_BLOCK_MILLIS)
    // Infinite: a topic's stream never expires (MAXLEN still bounds it).
    const ttlMillis = options.idleTimeToLive !== undefined && !Duration.isFinite(Duration.fromInputUnsafe(options.idleTimeToLive))
      ? undefined
      : millis("idleTimeToLive", options.idleTimeToLive, constants.DEFAULT_IDLE_TIME_TO_LIVE_MILLIS)
    const commandTimeout = Duration.millis(millis("commandTimeout", options.commandTimeout, constants.DEFAULT_COMMAND_TIMEOUT_MILLIS))
    const connectTimeout = Duration.millis(millis("connectTimeout", options.connectTimeout, constants.DEFAULT_CONNECT_TIMEOUT_MILLIS))
    const schedule = options.schedule ?? defaultSchedule
    const onEvent = options.onEvent ?? (() => Effect.void)
    const nodeId = options.nodeId ?? randomBytes(8).toString("hex")
    // This process's own key; made anew should a key of another type ever sit under its name.
    let wakeKey = `${prefix}${constants.WAKE_KEY_INFIX}${nodeId}`

    const local = Hub.make()
    const seqs = new Sequences()
    const outbox = new Ring<Entry>(positive("outboxSize", options.outboxSize ?? constants.DEFAULT_OUTBOX_SIZE))
    const replay = new Ring<Entry>(replaySize)
    let inflight: Array<Entry> = []
    // Opened by plain code when the outbox or the interests change; each loop closes its latch,
    // looks at the state, and waits only if there is nothing to do (no wake-up can be lost).
    const outboxChanged = Latch.makeUnsafe(false)
    const interestsChanged = Latch.makeUnsafe(false)
    const interests = new Map<string, Interest>()
    const heard = new Heard(constants.MAX_TRACKED_PUBLISHERS)
    let runId: string | undefined
    let session: { readonly writer: Redis } | undefined
    // Set while the reader's XREAD is out: its topics were chosen before any added since.
    let reading = false
    let droppedPending = 0

    const command = <A>(what: string, run: () => Promise<A>, timeout: Duration.Duration = commandTimeout) =>
      runCommand(what, run, timeout)

    const key = (topic: string) => `${prefix}${topic}`

    const latestId = (writer: Redis, topic: string) =>
      command("XREVRANGE", () => writer.xrevrange(key(topic), "+", "-", "COUNT", 1)).pipe(
        Effect.map((entries) => entries[0]?.[0] ?? "0-0"),
        // Not a stream (yet): read from the start once it is one; the reader reports it meanwhile.
        Effect.catchIf((error) => error.reason === "WrongType", () => Effect.succeed("0-0"))
      )

    // Topics whose key holds another type than a stream: left out of XREAD (which would fail for
    // all of them) until a look every blockTimeout finds a stream, or no key, there.
    const unavailable = new Set<string>()
    let lookedAt = 0
    /** The keys among `keys` that hold something else than a stream (or nothing), with their type. */
    const wrongTyped = (client: Redis, keys: ReadonlyArray<string>) =>
      Effect.map(
        command("TYPE", () => {
          const pipeline = client.pipeline()
          for (const each of keys) pipeline.type(each)
          return pipeline.exec()
        }),
        (results) => {
          const found: Array<readonly [key: string, type: string]> = []
          ;(results ?? []).forEach(([error, type], i) => {
            if (error === null && type !== "stream" && type !== "none") found.push([keys[i]!, String(type)])
          })
          return found
        }
      )

    /** Wakes the reader out of an `XREAD` whose topics were chosen before the one just added. */
    const wake = (writer: Redis) =>
      command("XADD", () =>
        writer.pipeline()
          .xadd(wakeKey, "MAXLEN", 1, "*", "w", "1")
          .evalsha(EXPIRE_STREAM_SHA, 1, wakeKey, constants.WAKE_KEY_TIME_TO_LIVE_MILLIS)
          .exec())

    // ---- writing: the outbox to Redis, at least once; readers drop the duplicates -------------

    /** Adds `entries` to their topics' streams; the ones Redis took (a refused one is dropped and counted). */
    const xadd = (writer: Redis, entries: ReadonlyArray<Entry>) =>
      Effect.gen(function*() {
        const taken: Array<Entry> = []
        for (let at = 0; at < entries.length; at += constants.WRITE_BATCH) {
          const batch = entries.slice(at, at + constants.WRITE_BATCH)
          const pipeline = writer.pipeline()
          const topics = new Set<string>()
          for (const entry of batch) {
            pipeline.xadd(key(entry.topic), "MAXLEN", "~", maxLen, "*", ...toFields(nodeId, entry))
            topics.add(entry.topic)
          }
          // Retention in time as well as in length: an idle topic's stream goes away. Only a
          // stream: a key of another type under a topic's name is not the hub's to expire.
          if (ttlMillis !== undefined) for (const topic of topics) pipeline.evalsha(EXPIRE_STREAM_SHA, 1, key(topic), ttlMillis)
          const results = (yield* command("XADD", () => pipeline.exec())) ?? []
          for (let i = 0; i < results.length; i++) {
            const [error] = results[i]!
            if (error !== null && error.name !== "ReplyError") {
              return yield* new RedisError({ reason: "Command", detail: `XADD: ${error.message}` })
            }
            if (i >= batch.length) continue
            // A reply error (say, the key holds another type) is about that entry: it is dropped.
            if (error === null) taken.push(batch[i]!)
            else droppedPending++
          }
        }
        return taken
      })

    const flushDropped = Effect.suspend(() => {
      if (droppedPending === 0) return Effect.void
      const count = droppedPending
      droppedPending = 0
      return Metric.update(dropped, count).pipe(Effect.andThen(onEvent(RedisHubEvent.Dropped({ count }))))
    })

    const writeLoop = (writer: Redis, restarted: boolean) =>
      Effect.gen(function*() {
        // Redis lost what it had (a restart without persistence): add again what it acknowledged.
        if (restarted) yield* xadd(writer, replay.toArray())
        while (true) {
          if (inflight.length === 0) {
            outboxChanged.closeUnsafe()
            if (outbox.size === 0) yield* outboxChanged.await
            inflight = outbox.take(constants.WRITE_BATCH)
            if (inflight.length === 0) continue
          }
          // Only what Redis took may be added again after a restart: a refused entry stays dropped.
          for (const entry of yield* xadd(writer, inflight)) replay.push(entry)
          inflight = []
          yield* flushDropped
        }
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

    const readLoop = (reader: Redis) =>
      Effect.gen(function*() {
        let wakeId = "0-0"
        while (true) {
          interestsChanged.closeUnsafe()
          if (unavailable.size > 0 && (yield* Clock.currentTimeMillis) - lookedAt >= blockMillis) {
            lookedAt = yield* Clock.currentTimeMillis
            const still = new Set((yield* wrongTyped(reader, [...unavailable].map(key))).map(([each]) => each.slice(prefix.length)))
            for (const topic of unavailable) {
              if (still.has(topic)) continue
              unavailable.delete(topic)
              const interest = interests.get(topic)
              if (interest !== undefined) interest.position = "0-0"
            }
          }
          const keys: Array<string> = []
          const ids: Array<string> = []
          for (const [topic, interest] of interests) {
            if (interest.position === undefined || unavailable.has(topic)) continue
            keys.push(key(topic))
            ids.push(interest.position)
          }
          if (keys.length === 0) {
            // With topics unavailable, they are looked at again after blockTimeout.
            yield* unavailable.size === 0
              ? interestsChanged.await
              : Effect.timeoutOption(interestsChanged.await, Duration.millis(blockMillis))
            continue
          }
          keys.push(wakeKey)
          ids.push(wakeId)
          reading = true
          const read = yield* command(
            "XREAD",
            () => reader.xreadBuffer("COUNT", readCount, "BLOCK", blockMillis, "STREAMS", ...keys, ...ids) as Promise<XReadReply>,
            Duration.sum(Duration.millis(blockMillis), commandTimeout)
          ).pipe(Effect.ensuring(Effect.sync(() => (reading = false))), Effect.result)
          if (Result.isFailure(read)) {
            if (read.failure.reason !== "WrongType") return yield* read.failure
            // Some topic's key holds another type: which ones, said once each; the others go on.
            // (None any more: it changed since; the next XREAD tells.)
            lookedAt = yield* Clock.currentTimeMillis
            for (const [each, type] of yield* wrongTyped(reader, keys)) {
              if (each === wakeKey) {
                // This process's own wake stream: it takes a name of its own again.
                wakeKey = `${prefix}${constants.WAKE_KEY_INFIX}${nodeId}:${randomBytes(4).toString("hex")}`
                wakeId = "0-0"
                continue
              }
              const topic = each.slice(prefix.length)
              // Unsubscribed while the look was out: nothing to say, nothing to keep.
              if (!interests.has(topic)) continue
              unavailable.add(topic)
              yield* onEvent(RedisHubEvent.Unavailable({ topic, type }))
            }
            continue
          }
          const reply = read.success
          if (reply === null) continue // nothing within blockTimeout
          const lostCounts = new Map<string, number>()
          for (const [streamKey, entries] of reply) {
            const name = streamKey.toString("utf8")
            if (name === wakeKey) {
              wakeId = entries[entries.length - 1]![0].toString("latin1")
              continue
            }
            const topic = name.slice(prefix.length)
            for (const [id, fields] of entries) {
              const payload = deliver(topic, id.toString("latin1"), fields, lostCounts)
              if (payload !== undefined) yield* local.publish(topic, payload)
            }
          }
          for (const [topic, count] of lostCounts) {
            yield* Metric.update(lost, count)
            yield* onEvent(RedisHubEvent.Lost({ topic, count }))
          }
        }
      })

    // ---- sessions: both connections, until either fails; then the Schedule --------------------

    const connection = (role: string) =>
      open({ url: options.url, redisOptions: options.redisOptions, connectionName: `bytechannel-hub-${role}-${nodeId}`, connectTimeout })

    const runSession = (onConnected: () => void) =>
      Effect.gen(function*() {
        const writer = yield* connection("writer")
        const reader = yield* connection("reader")
        const info = yield* command("INFO", () => writer.info("server"))
        yield* command("SCRIPT", () => writer.script("LOAD", EXPIRE_STREAM))
        const currentRunId = /run_id:(\w+)/.exec(info)?.[1] ?? ""
        const restarted = runId !== undefined && currentRunId !== runId
        runId = currentRunId
        for (const [topic, interest] of interests) {
          // After a restart the streams hold only what was added since: read them from the start.
          if (restarted) interest.position = "0-0"
          else if (interest.position === undefined) interest.position = yield* latestId(writer, topic)
          yield* Deferred.succeed(interest.ready, undefined)
        }
        session = { writer }
        yield* Effect.addFinalizer(() => Effect.sync(() => (session = undefined)))
        onConnected()
        yield* onEvent(RedisHubEvent.Connected({ runId: currentRunId, restarted, replayed: restarted ? replay.size : 0 }))
        return yield* Effect.raceAllFirst([writeLoop(writer, restarted), readLoop(reader), closed([writer, reader])])
      }).pipe(Effect.scoped)

    const supervise = Effect.gen(function*() {
      let step = yield* Schedule.toStepWithSleep(schedule)
      while (true) {
        let connected = false
        const error = yield* Effect.flip(runSession(() => (connected = true)))
        if (connected) {
          step = yield* Schedule.toStepWithSleep(schedule) // a session was up: the schedule starts over
          yield* onEvent(RedisHubEvent.Disconnected({ error }))
        }
        if (Result.isFailure(yield* Effect.result(step(error)))) return yield* onEvent(RedisHubEvent.GaveUp({ error }))
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
        const interest: Interest = { refs: 1, position: undefined, ready: Deferred.makeUnsafe<void>() }
        interests.set(topic, interest)
        const current = session
        if (current !== undefined) {
          const started = yield* Effect.result(Effect.gen(function*() {
            // Start at the stream's end now, so that everything published from here on is read.
            const position = yield* latestId(current.writer, topic)
            if (interest.position === undefined) interest.position = position
            // An XREAD already out does not read this topic: wake it.
            if (reading) yield* wake(current.writer)
          }))
          // A command failed or was late: the session ends (its connections are dropped), and the
          // next one starts every topic it does not know yet at the stream's end.
          if (Result.isFailure(started)) current.writer.disconnect()
        }
        interestsChanged.openUnsafe()
        yield* Deferred.succeed(interest.ready, undefined)
      })

    const removeInterest = (topic: string) =>
      Effect.sync(() => {
        const interest = interests.get(topic)
        if (interest === undefined || --interest.refs > 0) return
        interests.delete(topic)
        unavailable.delete(topic)
        heard.forget(topic)
      })

    const publish = (topic: string, message: Uint8Array): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (outbox.push({ topic, seq: seqs.next(topic), payload: message })) droppedPending++
        outboxChanged.openUnsafe()
        return droppedPending > 0 && session === undefined
          ? Effect.andThen(flushDropped, local.publish(topic, message))
          : local.publish(topic, message)
      })

    const subscribe = (topic: string, subscribeOptions?: Hub.SubscribeOptions) =>
      Effect.gen(function*() {
        const stream = yield* local.subscribe(topic, subscribeOptions)
        yield* Effect.acquireRelease(addInterest(topic), () => removeInterest(topic))
        return stream
      })

    return { publish, subscribe }
  })
