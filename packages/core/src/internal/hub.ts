/**
 * The in-process `Hub`: per topic, the set of its subscribers; each subscriber an Effect `Queue`
 * bounded by its `bufferSize`, with its overflow policy applied here. `publish` is a plain loop
 * over the topic's subscribers (`Queue.offerUnsafe`, no Effect per subscriber).
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import type { HubService, OverflowPolicy, SubscribeOptions } from "../Hub.js"
import { DEFAULT_HUB_BUFFER_SIZE, HUB_MAX_CHUNK } from "./constants.js"

/** @internal */
export class HubError extends Data.TaggedError("HubError")<{
  readonly reason: "Overflow"
  readonly topic: string
  readonly bufferSize: number
}> {
  override get message() {
    return `Overflow: a subscriber of topic "${this.topic}" fell ${this.bufferSize} messages behind`
  }
}

/** @internal */
export const dropped = Metric.counter("bytechannel_hub_dropped", {
  description: "Messages a Hub dropped for subscribers whose buffer was full",
  incremental: true
})

/** One subscription: its queue (which ends with the scope) and what it does when full. */
interface Subscriber {
  readonly queue: Queue.Queue<Uint8Array, HubError | Cause.Done>
  readonly capacity: number
  readonly policy: OverflowPolicy
}

/**
 * Offers `message` under the subscriber's policy; answers how many messages were dropped: none,
 * one (this one, or the oldest with `"dropOldest"`), or with `"fail"` this one and all it held.
 */
const offer = (subscriber: Subscriber, message: Uint8Array, topic: string): number => {
  const { capacity, policy, queue } = subscriber
  if (Queue.sizeUnsafe(queue) < capacity) {
    Queue.offerUnsafe(queue, message) // false once ended or failed: not a drop
    return 0
  }
  switch (policy) {
    case "dropOldest": // a sliding queue: the oldest makes room
      Queue.offerUnsafe(queue, message)
      return 1
    case "dropNewest":
      return 1
    case "fail": {
      // What it holds is dropped with it: the stream fails now, not after draining a backlog.
      const held = Queue.sizeUnsafe(queue)
      for (let i = 0; i < held; i++) Queue.takeUnsafe(queue)
      Queue.failCauseUnsafe(queue, Cause.fail(new HubError({ reason: "Overflow", topic, bufferSize: capacity })))
      return held + 1
    }
  }
}

const validate = (topic: string, bufferSize: number) => {
  if (typeof topic !== "string") throw new TypeError(`Hub: a topic is a string, got ${typeof topic}`)
  if (!Number.isInteger(bufferSize) || bufferSize < 1) {
    throw new RangeError(`Hub: bufferSize must be a positive integer, got ${bufferSize}`)
  }
}

/** @internal */
export const make = (): HubService => {
  const topics = new Map<string, Set<Subscriber>>()
  let droppedPending = 0

  const publish = (topic: string, message: Uint8Array): Effect.Effect<void> =>
    Effect.suspend(() => {
      const subscribers = topics.get(topic)
      if (subscribers !== undefined) {
        for (const subscriber of subscribers) droppedPending += offer(subscriber, message, topic)
      }
      if (droppedPending === 0) return Effect.void
      const count = droppedPending
      droppedPending = 0
      return Metric.update(dropped, count)
    })

  const subscribe = (topic: string, options?: SubscribeOptions) =>
    Effect.gen(function*() {
      const capacity = options?.bufferSize ?? DEFAULT_HUB_BUFFER_SIZE
      validate(topic, capacity)
      const policy = options?.overflow ?? "dropOldest"
      const queue = yield* Queue.make<Uint8Array, HubError | Cause.Done>({
        capacity,
        strategy: policy === "dropOldest" ? "sliding" : "dropping"
      })
      const subscriber: Subscriber = { queue, capacity, policy }
      let set = topics.get(topic)
      if (set === undefined) topics.set(topic, set = new Set())
      set.add(subscriber)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          const current = topics.get(topic)
          current?.delete(subscriber)
          if (current?.size === 0) topics.delete(topic)
          // What it holds is still read; then the stream ends.
          Queue.endUnsafe(queue)
        })
      )
      // At least one message a pull (`min` 1), at most HUB_MAX_CHUNK; fails with Done once ended.
      const pull = Queue.takeBetween(queue, 1, HUB_MAX_CHUNK) as Effect.Effect<unknown> as Effect.Effect<
        Arr.NonEmptyReadonlyArray<Uint8Array>,
        HubError | Cause.Done
      >
      return Stream.fromPull(Effect.succeed(pull))
    })

  return { publish, subscribe }
}
