/**
 * Topics shared by the connections of a server: `publish` bytes to a topic, `subscribe` to
 * receive them. Programs depend on the `Hub` service only; the layer decides how far a message goes:
 * `Hub.layer` (this module) delivers within the process, `RedisHub.layer`
 * (`@bytechannel/redis`) across every server process that shares a Redis.
 *
 * Guarantees of the in-process hub (the Redis hub keeps them and adds its own, see there):
 * - **Registered when `subscribe` completes**: every message published after that is offered
 *   to the subscription, until its scope closes (then its stream ends).
 * - **Per-publisher order**: messages published one after the other reach every subscriber in
 *   that order; nothing is delivered twice.
 * - **Bounded**: each subscriber has its own buffer (`bufferSize`, default 1024 messages) and
 *   an overflow policy for when it falls that far behind: `"dropOldest"` (the default),
 *   `"dropNewest"`, or `"fail"` (its stream fails at once with `HubError` `"Overflow"`, dropping
 *   what it held, so the connection can be closed). A slow subscriber never slows `publish` or
 *   the others; every dropped message is counted in the `bytechannel_hub_dropped` metric.
 *   Each subscription is an Effect `Queue` of that bound; its stream emits up to 256 messages
 *   at a time.
 * - Subscribers share the published `Uint8Array`: do not mutate it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/hub.js"

/**
 * What a subscriber's buffer does when it is full: drop its oldest message (`"dropOldest"`),
 * drop the new one (`"dropNewest"`), or end the subscription with `HubError` (`"fail"`).
 *
 * @since 0.1.0
 * @category models
 */
export type OverflowPolicy = "dropOldest" | "dropNewest" | "fail"

/**
 * @since 0.1.0
 * @category models
 */
export interface SubscribeOptions {
  /** Messages held for this subscriber while it is behind. Default 1024. */
  readonly bufferSize?: number | undefined
  /** Default `"dropOldest"`. */
  readonly overflow?: OverflowPolicy | undefined
}

/**
 * A subscriber fell `bufferSize` messages behind under the `"fail"` policy.
 *
 * @since 0.1.0
 * @category errors
 */
export type HubError = internal.HubError

/**
 * @since 0.1.0
 * @category errors
 */
export const HubError: typeof internal.HubError = internal.HubError

/**
 * The topic service: programs depend on it, a layer (`Hub.layer`, `RedisHub.layer`) provides it.
 *
 * @example
 * ```ts
 * import { Hub } from "@bytechannel/core"
 * import { Effect } from "effect"
 *
 * const announce = Effect.gen(function*() {
 *   const hub = yield* Hub.Hub
 *   yield* hub.publish("news", new TextEncoder().encode("hello"))
 * })
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class Hub extends Context.Service<Hub, HubService>()("@bytechannel/core/Hub") {}

/**
 * The service's shape, for layers that implement it.
 *
 * @since 0.1.0
 * @category models
 */
export interface HubService {
  /** Offers `message` to every current subscriber of `topic`; never waits for them. */
  readonly publish: (topic: string, message: Uint8Array) => Effect.Effect<void>
  /**
   * Subscribes to `topic` for as long as the scope is open: registered when this completes,
   * the returned stream ends when the scope closes.
   */
  readonly subscribe: (
    topic: string,
    options?: SubscribeOptions
  ) => Effect.Effect<Stream.Stream<Uint8Array, HubError>, never, Scope.Scope>
}

/**
 * A hub within this process. Layers that carry messages further (`RedisHub`) build on one for
 * the subscribers of their own process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: () => HubService = internal.make

/**
 * The in-process hub, the default: no server needed.
 *
 * @example
 * ```ts
 * import { Hub } from "@bytechannel/core"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const news = yield* Hub.subscribe("news", { bufferSize: 256, overflow: "dropOldest" })
 *   yield* Hub.publish("news", new TextEncoder().encode("hello"))
 *   const [first] = yield* news.pipe(Stream.take(1), Stream.runCollect)
 *   yield* Effect.log(new TextDecoder().decode(first))
 * }).pipe(Effect.scoped, Effect.provide(Hub.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Hub> = Layer.sync(Hub, internal.make)

/**
 * Publishes through the `Hub` in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const publish = (topic: string, message: Uint8Array): Effect.Effect<void, never, Hub> =>
  Hub.use((hub) => hub.publish(topic, message))

/**
 * Subscribes through the `Hub` in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const subscribe = (
  topic: string,
  options?: SubscribeOptions
): Effect.Effect<Stream.Stream<Uint8Array, HubError>, never, Hub | Scope.Scope> =>
  Hub.use((hub) => hub.subscribe(topic, options))

/**
 * Messages dropped for subscribers whose buffer was full.
 *
 * @since 0.1.0
 * @category metrics
 */
export const dropped: Metric.Counter<number> = internal.dropped
