/**
 * The `Hub` across server processes: every process that shares a Redis gets every message
 * published on a topic, through one Redis stream per topic (`XADD` with a bounded `MAXLEN`,
 * `XREAD` resumed from the last id seen). Programs keep depending on `Hub` only: swap
 * `Hub.layer` for `RedisHub.layer({ url })` and a chat on one process runs on several.
 *
 * Delivery semantics (what the tests check against a real `redis-server`):
 * - **Local first**: a message reaches the subscribers of its own process at `publish`, without
 *   Redis; while Redis is unreachable, each process keeps serving its own subscribers.
 * - **Per-publisher order, exactly once**: every entry carries its publisher's id and a
 *   per-topic sequence number. Messages reach every other process in the order one process
 *   published them; an entry seen twice (added again after a reconnect) is dropped.
 * - **Nothing lost across a Redis outage or restart, within bounds**: messages published while
 *   Redis is unreachable wait in a bounded outbox (`outboxSize`, default 10,000 per process;
 *   beyond it the oldest are dropped and counted: `Dropped`). A message that was sent but not
 *   acknowledged is sent again. When Redis comes back as a new instance (its `run_id` changed:
 *   a restart, which without persistence loses every stream), each process adds again the last
 *   `replaySize` (default 1,000) messages Redis had acknowledged, and every reader reads the new
 *   streams from their start; duplicates are dropped. So a restart loses nothing a process
 *   published among its last `replaySize` messages before it, nor anything published during
 *   the outage within `outboxSize`.
 * - **Closing**: when the hub's scope closes, what still waits for Redis is sent once more
 *   (within `commandTimeout`); with Redis unreachable then, it is dropped.
 * - **Retention is bounded, in length and in time**: each topic's stream keeps about `maxLen`
 *   entries (default 10,000, `XADD ... MAXLEN ~`), and is deleted `idleTimeToLive` (default 1
 *   hour) after its last publish (`PEXPIRE`, refreshed with every publish): Redis holds only the
 *   topics in use. A reader that falls further behind than `maxLen` (a long pause of its
 *   process), or that comes back to a topic deleted while it was away, misses those entries.
 * - **Losses are reported**: a gap in a publisher's sequence (trimmed entries, or a restart
 *   beyond the replay window) is counted when the next message of that publisher arrives:
 *   `Lost` event and the `bytechannel_redis_hub_lost` metric.
 * - **Subscriptions**: registered when `subscribe` completes (then, with Redis reachable, every
 *   message published anywhere after that is delivered, at once: the reader's `XREAD` is woken
 *   for the new topic, it does not wait out `blockTimeout`). A topic first subscribed while
 *   Redis is unreachable is read from the stream's end when Redis is next reached. Each
 *   subscriber has the in-process hub's bounded buffer and overflow policy.
 * - **A key that is not the hub's**: a topic whose key holds another type than a stream (Redis
 *   answers WRONGTYPE) is reported (`Unavailable`) and left out of the reads, so the other
 *   topics go on; its publishes are dropped and counted. It is looked at again every
 *   `blockTimeout` and read from its start once its key is a stream or gone.
 * - **Bounded, with deadlines**: reconnecting to Redis follows an Effect `Schedule`
 *   (exponential from 100 ms, capped at 2 s, jittered, forever); opening a connection, all of
 *   it (TCP, handshake, Redis's ready check), has a deadline (`connectTimeout`), past which the
 *   connection is dropped and the schedule tries again, so a Redis (or a proxy) that accepts
 *   connections but never answers does not hold the hub; each command has a deadline
 *   (`commandTimeout`), and `XREAD` blocks at most `blockTimeout` on the server.
 *
 * Two Redis connections per process: one for commands, one blocked in `XREAD` on every
 * subscribed topic and on the process's wake stream (`<keyPrefix>~wake:<nodeId>`, one entry,
 * deleted a minute after its last use), where an entry is added when a topic is added.
 *
 * @since 0.1.0
 */
import * as Hub from "@bytechannel/core/Hub"
import type * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { RedisOptions } from "ioredis"
import * as internal from "./internal/redisHub.js"

/**
 * Why a session with Redis ended (or could not start).
 *
 * @since 0.1.0
 * @category errors
 */
export type RedisError = internal.RedisError

/**
 * @since 0.1.0
 * @category errors
 */
export const RedisError: typeof internal.RedisError = internal.RedisError

/**
 * What happened between this process and Redis.
 *
 * @since 0.1.0
 * @category models
 */
export type RedisHubEvent = Data.TaggedEnum<{
  /** Both connections are up. `restarted`: Redis is a new instance; `replayed` messages were added again. */
  Connected: { readonly runId: string; readonly restarted: boolean; readonly replayed: number }
  /** The session ended; reconnection follows the schedule. */
  Disconnected: { readonly error: RedisError }
  /** The schedule gave up: from now on this process only serves its own subscribers. */
  GaveUp: { readonly error: RedisError }
  /** Messages this process dropped from its outbox to Redis (full while Redis was unreachable). */
  Dropped: { readonly count: number }
  /** Messages found missing in another publisher's sequence on `topic`. */
  Lost: { readonly topic: string; readonly count: number }
  /**
   * `topic`'s key holds another type than a stream (a key under the hub's prefix that is not the
   * hub's): the topic is not read while it does, the others are; its publishes are dropped
   * (`Dropped`). It is looked at again every `blockTimeout`, and read from its start once the key
   * is a stream or gone.
   */
  Unavailable: { readonly topic: string; readonly type: string }
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const RedisHubEvent: Data.TaggedEnum.Constructor<RedisHubEvent> = internal.RedisHubEvent

/**
 * @since 0.1.0
 * @category models
 */
export interface RedisHubOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  readonly url: string
  /** Further ioredis options (TLS, password, family). Reconnection and queueing stay the hub's. */
  readonly redisOptions?: RedisOptions | undefined
  /** Prefix of each topic's stream key. Default `"bytechannel:hub:"`. */
  readonly keyPrefix?: string | undefined
  /** Entries each topic's stream keeps (`MAXLEN ~`). Default 10,000. */
  readonly maxLen?: number | undefined
  /**
   * How long a topic's stream outlives its last publish (`PEXPIRE`, refreshed with every
   * publish): an idle topic's stream is deleted. Whole milliseconds. Default 1 hour;
   * `Duration.infinity` (or `Infinity`): never deleted, `maxLen` still bounds it.
   */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** Messages waiting for Redis in this process; beyond, the oldest are dropped. Default 10,000. */
  readonly outboxSize?: number | undefined
  /** Acknowledged messages kept to add again after a Redis restart (0: none). Default 1,000. */
  readonly replaySize?: number | undefined
  /** Entries asked for by one `XREAD`. Default 512. */
  readonly readCount?: number | undefined
  /** How long one `XREAD` blocks on the server. Default 5 seconds. */
  readonly blockTimeout?: Duration.Input | undefined
  /** Deadline of each command (beyond `blockTimeout` for `XREAD`). Default 5 seconds. */
  readonly commandTimeout?: Duration.Input | undefined
  /**
   * Deadline of opening a connection, all of it: TCP, the handshake and Redis's ready check.
   * Past it the connection is dropped and `schedule` decides when to try again. Default 5 seconds.
   */
  readonly connectTimeout?: Duration.Input | undefined
  /**
   * Delays between attempts to reach Redis, fed the error; reset once a session is up. Default:
   * exponential from 100 ms, capped at 2 s, jittered, forever.
   */
  readonly schedule?: Schedule.Schedule<unknown, RedisError> | undefined
  /** This process's id in the entries it writes. Default: 16 random hex digits. */
  readonly nodeId?: string | undefined
  /** Called with every event. */
  readonly onEvent?: ((event: RedisHubEvent) => Effect.Effect<void>) | undefined
}

/**
 * A Redis hub living as long as the scope: it connects in the background (the hub serves the
 * process's own subscribers at once, Redis or not) and disconnects when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: RedisHubOptions) => Effect.Effect<Hub.HubService, never, Scope.Scope> = internal.make

/**
 * The `Hub` through Redis.
 *
 * @example
 * ```ts
 * import * as Hub from "@bytechannel/core/Hub"
 * import { RedisHub } from "@bytechannel/redis"
 * import { Effect, Stream } from "effect"
 *
 * // Run this in several processes: each prints what any of them publishes.
 * const program = Effect.gen(function*() {
 *   const room = yield* Hub.subscribe("room:1", { bufferSize: 1024, overflow: "dropOldest" })
 *   yield* Hub.publish("room:1", new TextEncoder().encode(`hello from ${process.pid}`))
 *   yield* room.pipe(Stream.runForEach((bytes) => Effect.log(new TextDecoder().decode(bytes))))
 * }).pipe(
 *   Effect.scoped,
 *   Effect.provide(RedisHub.layer({ url: "redis://127.0.0.1:6379", onEvent: (event) => Effect.log(event._tag) }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: RedisHubOptions): Layer.Layer<Hub.Hub> => Layer.effect(Hub.Hub, internal.make(options))

/**
 * Messages dropped from a process's outbox to Redis.
 *
 * @since 0.1.0
 * @category metrics
 */
export const dropped: Metric.Counter<number> = internal.dropped

/**
 * Messages found missing in a publisher's sequence.
 *
 * @since 0.1.0
 * @category metrics
 */
export const lost: Metric.Counter<number> = internal.lost
