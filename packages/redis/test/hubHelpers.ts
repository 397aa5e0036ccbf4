/**
 * What the RedisHub tests share: hubs with their events watched, subscribers that collect what
 * they get, publishers of numbered messages, and a plain client for looking at Redis from outside.
 */
import { it } from "@effect/vitest"
import type * as Hub from "@bytechannel/core/Hub"
import { RedisHub } from "@bytechannel/redis"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { Redis } from "ioredis"
import { watch } from "../../core/test/utils.js"

export const DEADLINE = Duration.seconds(15)
const text = new TextEncoder()
const untext = new TextDecoder()

/** A hub with its events watched. */
export const hub = (options: RedisHub.RedisHubOptions) =>
  Effect.gen(function*() {
    const events = watch<RedisHub.RedisHubEvent>(DEADLINE)
    const service = yield* RedisHub.make({ ...options, onEvent: (event) => Effect.sync(() => events.push(event)) })
    return { hub: service, events }
  })

export const connected = (restarted?: boolean) => (events: ReadonlyArray<RedisHub.RedisHubEvent>) =>
  events.some((e) => e._tag === "Connected" && (restarted === undefined || e.restarted === restarted))

/** A hub that has connected to Redis. */
export const connectedHub = (options: RedisHub.RedisHubOptions) =>
  Effect.tap(hub(options), (made) => made.events.until(connected(), "the hub to connect"))

/** Subscribes and collects every message (as text) in the background; `deadline` bounds each wait on it. */
export const collect = (hub: Hub.HubService, topic: string, options?: Hub.SubscribeOptions, deadline: Duration.Input = DEADLINE) =>
  Effect.gen(function*() {
    const got = watch<string>(deadline)
    const stream = yield* hub.subscribe(topic, options)
    yield* Effect.forkScoped(Stream.runForEach(stream, (bytes) => Effect.sync(() => got.push(untext.decode(bytes)))))
    return got
  })

export const publishAll = (hub: Hub.HubService, topic: string, from: string, range: readonly [number, number]) =>
  Effect.forEach(Array.from({ length: range[1] - range[0] }, (_, i) => range[0] + i), (i) => hub.publish(topic, text.encode(`${from}:${i}`)), { discard: true })

/** `from`'s messages in `got`, as numbers, in arrival order. */
export const numbers = (got: ReadonlyArray<string>, from: string) => got.filter((m) => m.startsWith(`${from}:`)).map((m) => Number(m.slice(from.length + 1)))
export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** A plain client for looking at Redis from the outside. */
export const inspector = (url: string): Effect.Effect<Redis, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(() => new Redis(url, { lazyConnect: false, retryStrategy: () => null, enableOfflineQueue: true })), (client) => Effect.sync(() => client.disconnect()))

/** Real time throughout (it.live): the schedule's delays and the deadlines run on the real clock. */
export const itLive = (name: string, body: () => Effect.Effect<void, unknown, Scope.Scope>, timeout?: number) => it.live(name, body, timeout)
