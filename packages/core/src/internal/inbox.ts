/**
 * The receive queue's bookkeeping, plain TypeScript (nothing from `effect` but types): the
 * engine wraps it.
 *
 * @internal
 */
import type * as MessageSocket from "../MessageSocket.js"
import type { SocketError } from "../SocketError.js"
import { INBOX_INITIAL_SLOTS as INITIAL_SLOTS, INBOX_SHRINK_ABOVE_SLOTS as SHRINK_ABOVE_SLOTS } from "./constants.js"


/** @internal */
export const messageSize = (message: MessageSocket.Message): number =>
  typeof message === "string" ? message.length : message.byteLength

/**
 * The receive queue: a ring of slots that grows by doubling and is kept once made, so a message
 * passing through costs no allocation (an array emptied and refilled would get a new backing
 * store each time), pausing the transport at the high-water mark and resuming it at the
 * low-water mark. Waiting readers are only woken: each takes its message itself, in its own
 * fiber, so a reader interrupted between the wake-up and the take loses nothing (cancel-safe
 * reads). The first waiting reader has a slot of its own: one reader, the common case, waits
 * without touching an array.
 *
 * @internal
 */
export class Inbox {
  // Made by the first message: a connection never read from holds none.
  private ring: Array<MessageSocket.Message | undefined> | undefined = undefined
  private head = 0
  size = 0
  bytes = 0
  paused = false
  private firstWaker: (() => void) | undefined = undefined
  private moreWakers: Array<() => void> | undefined = undefined
  ended = false
  failure: SocketError | undefined = undefined

  push(message: MessageSocket.Message): void {
    let ring = this.ring
    if (ring === undefined) ring = this.ring = new Array(INITIAL_SLOTS)
    else if (this.size === ring.length) ring = this.grow(ring)
    ring[(this.head + this.size) & (ring.length - 1)] = message
    this.size++
    this.bytes += messageSize(message)
    this.wakeOne()
  }

  shift(): MessageSocket.Message {
    const ring = this.ring!
    const message = ring[this.head]!
    ring[this.head] = undefined
    this.head = (this.head + 1) & (ring.length - 1)
    this.size--
    this.bytes -= messageSize(message)
    // A burst made the ring large: once drained, it goes back to its first size.
    if (this.size === 0) {
      this.head = 0
      if (ring.length > SHRINK_ABOVE_SLOTS) this.ring = new Array(INITIAL_SLOTS)
    }
    return message
  }

  // Doubles the ring, its messages in order from slot 0 (the length stays a power of two).
  private grow(ring: Array<MessageSocket.Message | undefined>): Array<MessageSocket.Message | undefined> {
    const next = new Array<MessageSocket.Message | undefined>(ring.length * 2)
    for (let i = 0; i < this.size; i++) next[i] = ring[(this.head + i) & (ring.length - 1)]
    this.head = 0
    return this.ring = next
  }

  addWaker(waker: () => void): void {
    if (this.firstWaker === undefined) this.firstWaker = waker
    else (this.moreWakers ??= []).push(waker)
  }

  private wakeOne(): void {
    const waker = this.firstWaker
    if (waker === undefined) return
    this.firstWaker = this.moreWakers !== undefined && this.moreWakers.length > 0 ? this.moreWakers.shift() : undefined
    waker()
  }

  /** A reader stopped waiting; if it had been woken for a message it will not take, wake the next. */
  removeWaker(waker: () => void, wasWoken: boolean): void {
    if (this.firstWaker === waker) {
      this.firstWaker = this.moreWakers !== undefined && this.moreWakers.length > 0 ? this.moreWakers.shift() : undefined
      return
    }
    const index = this.moreWakers === undefined ? -1 : this.moreWakers.indexOf(waker)
    if (index >= 0) this.moreWakers!.splice(index, 1)
    else if (wasWoken && this.size > 0) this.wakeOne()
  }

  /** Wakes every waiting reader: the stream ended or failed. */
  finish(): void {
    const first = this.firstWaker
    if (first === undefined) return
    const more = this.moreWakers
    this.firstWaker = undefined
    this.moreWakers = undefined
    first()
    if (more !== undefined) for (const waker of more) waker()
  }
}
