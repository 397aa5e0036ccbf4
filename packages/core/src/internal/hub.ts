/**
 * The in-process `Hub`: per topic, the set of subscribers; each subscriber a bounded queue with
 * its overflow policy. `publish` is a plain loop over the topic's subscribers.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { HubService, OverflowPolicy, SubscribeOptions } from "../Hub.js"
import { DEFAULT_HUB_BUFFER_SIZE, HUB_MAX_CHUNK } from "./constants.js"
import { Waiters } from "./waiters.js"

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

/**
 * One subscriber's bounded buffer: a ring of at most `capacity` messages and the fibers waiting
 * for one. Plain TypeScript: `push` runs once per subscriber per message.
 */
class Mailbox {
  private readonly ring: Array<Uint8Array | undefined>
  private head = 0
  private size = 0
  private readonly waiters = new Waiters()
  failed: HubError | undefined = undefined
  closed = false

  constructor(readonly capacity: number, readonly policy: OverflowPolicy) {
    this.ring = new Array(capacity)
  }

  /** Adds `message` under the policy; false when a message (this one or the oldest) was dropped. */
  push(message: Uint8Array, topic: string): boolean {
    if (this.closed || this.failed !== undefined) return true
    let kept = true
    if (this.size === this.capacity) {
      if (this.policy === "dropNewest") return false
      if (this.policy === "fail") {
        this.failed = new HubError({ reason: "Overflow", topic, bufferSize: this.capacity })
        this.ring.fill(undefined)
        this.size = 0
        this.waiters.wakeAll()
        return false
      }
      this.ring[this.head] = undefined
      this.head = (this.head + 1) % this.capacity
      this.size--
      kept = false
    }
    this.ring[(this.head + this.size) % this.capacity] = message
    this.size++
    this.waiters.wakeAll()
    return kept
  }

  close() {
    this.closed = true
    this.waiters.wakeAll()
  }

  private takeUpTo(max: number): Chunk.Chunk<Uint8Array> {
    const n = Math.min(max, this.size)
    const out = new Array<Uint8Array>(n)
    for (let i = 0; i < n; i++) {
      out[i] = this.ring[this.head]!
      this.ring[this.head] = undefined
      this.head = (this.head + 1) % this.capacity
    }
    this.size -= n
    return Chunk.unsafeFromArray(out)
  }

  /** The next messages, waiting for one; ends (`None`) when closed and drained, fails when failed. */
  readonly pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<HubError>> = Effect.suspend(() => {
    if (this.failed !== undefined) return Effect.fail(Option.some(this.failed))
    if (this.size > 0) return Effect.succeed(this.takeUpTo(HUB_MAX_CHUNK))
    if (this.closed) return Effect.fail(Option.none())
    return Effect.zipRight(this.waiters.wait, this.pull)
  })
}

const validate = (topic: string, bufferSize: number) => {
  if (typeof topic !== "string") throw new TypeError(`Hub: a topic is a string, got ${typeof topic}`)
  if (!Number.isInteger(bufferSize) || bufferSize < 1) {
    throw new RangeError(`Hub: bufferSize must be a positive integer, got ${bufferSize}`)
  }
}

/** @internal */
export const make = (): HubService => {
  const topics = new Map<string, Set<Mailbox>>()
  let droppedPending = 0

  const deliver = (topic: string, message: Uint8Array) => {
    const subscribers = topics.get(topic)
    if (subscribers === undefined) return
    for (const subscriber of subscribers) if (!subscriber.push(message, topic)) droppedPending++
  }

  const publish = (topic: string, message: Uint8Array): Effect.Effect<void> =>
    Effect.suspend(() => {
      deliver(topic, message)
      if (droppedPending === 0) return Effect.void
      const count = droppedPending
      droppedPending = 0
      return Metric.incrementBy(dropped, count)
    })

  const subscribe = (topic: string, options?: SubscribeOptions) =>
    Effect.gen(function*() {
      const capacity = options?.bufferSize ?? DEFAULT_HUB_BUFFER_SIZE
      validate(topic, capacity)
      const mailbox = new Mailbox(capacity, options?.overflow ?? "dropOldest")
      let set = topics.get(topic)
      if (set === undefined) topics.set(topic, set = new Set())
      set.add(mailbox)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          const current = topics.get(topic)
          current?.delete(mailbox)
          if (current?.size === 0) topics.delete(topic)
          mailbox.close()
        })
      )
      return Stream.repeatEffectChunkOption(mailbox.pull)
    })

  return { publish, subscribe }
}
