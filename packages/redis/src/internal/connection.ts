/**
 * One connection to Redis under the library's deadlines: opening it (TCP, handshake and ready
 * check, all of it, within `connectTimeout`: ioredis's own `connectTimeout` stops at TCP, and
 * its `connect()` has no deadline once TCP is up) and each command (within `commandTimeout`).
 * Reconnection is never ioredis's: a connection that fails is dropped, and the hub's `Schedule`
 * decides when to open the next one.
 *
 * @internal
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"

/** @internal */
export class RedisError extends Data.TaggedError("RedisError")<{
  /** `WrongType`: the command met a key that holds another type (Redis's WRONGTYPE reply). */
  readonly reason: "Connect" | "Command" | "Timeout" | "Closed" | "WrongType"
  readonly detail: string
}> {
  override get message() {
    return `${this.reason}: ${this.detail}`
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * `run` (an ioredis command) with a deadline. A command that is late is abandoned, never waited
 * for: the caller ends the session, which drops the connection and fails what is still pending.
 *
 * @internal
 */
export const command = <A>(what: string, run: () => Promise<A>, timeout: Duration.Duration) =>
  Effect.tryPromise({
    try: run,
    catch: (error) =>
      new RedisError({ reason: describe(error).startsWith("WRONGTYPE") ? "WrongType" : "Command", detail: `${what}: ${describe(error)}` })
  }).pipe(
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () =>
        Effect.fail(new RedisError({ reason: "Timeout", detail: `${what}: no reply within ${Duration.format(timeout)}` }))
    })
  )

/** @internal */
export interface OpenOptions {
  readonly url: string
  readonly redisOptions: RedisOptions | undefined
  readonly connectionName: string
  readonly connectTimeout: Duration.Duration
}

/**
 * A connection that is up and ready, within `connectTimeout`, for as long as the scope is open.
 *
 * @internal
 */
export const open = (options: OpenOptions): Effect.Effect<Redis, RedisError, Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Redis(options.url, {
          ...options.redisOptions,
          // Reconnection is ours (the Schedule), never ioredis's; nothing is queued while down.
          lazyConnect: true,
          enableOfflineQueue: false,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
          autoResubscribe: false,
          autoResendUnfulfilledCommands: false,
          connectTimeout: Duration.toMillis(options.connectTimeout),
          connectionName: options.connectionName
        } as Omit<RedisOptions, "replyMapping">)
        // Failures reach us through connect(), commands and "close"; ioredis must not log them.
        client.on("error", () => {})
        return client
      }),
      (client) => Effect.sync(() => client.disconnect())
    )
    yield* Effect.callback<void, RedisError>((resume) => {
      client.connect().then(
        () => resume(Effect.void),
        (error: unknown) =>
          resume(Effect.fail(new RedisError({ reason: "Connect", detail: `${options.url}: ${describe(error)}` })))
      )
    }).pipe(
      Effect.timeoutOrElse({
        duration: options.connectTimeout,
        orElse: () =>
          Effect.fail(
            new RedisError({
              reason: "Timeout",
              detail: `${options.url}: not connected and ready within ${Duration.format(options.connectTimeout)}`
            })
          )
      })
    )
    return client
  })

/**
 * Fails when either connection closes (Redis went away, or a late command's session dropped it).
 *
 * @internal
 */
export const closed = (clients: ReadonlyArray<Redis>): Effect.Effect<never, RedisError> =>
  Effect.callback<never, RedisError>((resume) => {
    const onClose = () => resume(Effect.fail(new RedisError({ reason: "Closed", detail: "the connection to Redis closed" })))
    if (clients.some((client) => client.status !== "ready")) return onClose()
    for (const client of clients) client.once("close", onClose)
    return Effect.sync(() => {
      for (const client of clients) client.off("close", onClose)
    })
  })
