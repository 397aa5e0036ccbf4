/**
 * The receive queue's bookkeeping, plain TypeScript (nothing from `effect` but types): the
 * engine wraps it.
 *
 * @internal
 */
import type * as MessageSocket from "../MessageSocket.js"
import type { SocketError } from "../SocketError.js"

/** @internal */
export const messageSize = (message: MessageSocket.Message): number =>
  typeof message === "string" ? message.length : message.byteLength

/**
 * The receive queue: an array with a moving head (no per-message allocation beyond the slot),
 * pausing the transport at the high-water mark and resuming it at the low-water mark. Waiting
 * readers are only woken: each takes its message itself, in its own fiber, so a reader
 * interrupted between the wake-up and the take loses nothing (cancel-safe reads).
 *
 * @internal
 */
export class Inbox {
  private buffer: Array<MessageSocket.Message> = []
  private head = 0
  bytes = 0
  paused = false
  private readonly wakers: Array<() => void> = []
  ended = false
  failure: SocketError | undefined = undefined

  get size(): number {
    return this.buffer.length - this.head
  }

  push(message: MessageSocket.Message): void {
    this.buffer.push(message)
    this.bytes += messageSize(message)
    this.wakers.shift()?.()
  }

  shift(): MessageSocket.Message {
    const message = this.buffer[this.head]!
    this.buffer[this.head] = undefined as any
    this.head++
    this.bytes -= messageSize(message)
    if (this.head === this.buffer.length) {
      this.buffer = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head)
      this.head = 0
    }
    return message
  }

  addWaker(waker: () => void): void {
    this.wakers.push(waker)
  }

  /** A reader stopped waiting; if it had been woken for a message it will not take, wake the next. */
  removeWaker(waker: () => void, wasWoken: boolean): void {
    const index = this.wakers.indexOf(waker)
    if (index >= 0) this.wakers.splice(index, 1)
    else if (wasWoken && this.size > 0) this.wakers.shift()?.()
  }

  /** Wakes every waiting reader: the stream ended or failed. */
  finish(): void {
    const wakers = this.wakers.splice(0)
    for (const waker of wakers) waker()
  }
}
