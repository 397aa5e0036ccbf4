/**
 * The Redis hub's bookkeeping, plain TypeScript (nothing from `effect` or `ioredis`): the entry
 * each process adds to a topic's stream (its publisher's id and a per-topic sequence number,
 * then the payload), the bounded outbox and replay rings, and the per-publisher sequences a
 * reader uses to drop its own entries and duplicates and to count gaps. The Effect shell around
 * Redis is `redisHub.ts`.
 *
 * @internal
 */

/** One message on its way to a topic's stream, numbered by its publisher. @internal */
export interface Entry {
  readonly topic: string
  readonly seq: number
  readonly payload: Uint8Array
}

/** A bounded FIFO that drops its oldest when full. @internal */
export class Ring<A> {
  private readonly items: Array<A | undefined>
  private head = 0
  size = 0
  constructor(readonly capacity: number) {
    this.items = new Array(capacity)
  }
  /** Adds `item`; true when the oldest was dropped to make room. */
  push(item: A): boolean {
    if (this.capacity === 0) return true
    let droppedOne = false
    if (this.size === this.capacity) {
      this.items[this.head] = undefined
      this.head = (this.head + 1) % this.capacity
      this.size--
      droppedOne = true
    }
    this.items[(this.head + this.size) % this.capacity] = item
    this.size++
    return droppedOne
  }
  take(max: number): Array<A> {
    const n = Math.min(max, this.size)
    const out = new Array<A>(n)
    for (let i = 0; i < n; i++) {
      out[i] = this.items[this.head]!
      this.items[this.head] = undefined
      this.head = (this.head + 1) % this.capacity
    }
    this.size -= n
    return out
  }
  toArray(): Array<A> {
    const out = new Array<A>(this.size)
    for (let i = 0; i < this.size; i++) out[i] = this.items[(this.head + i) % this.capacity]!
    return out
  }
}

/** The fields of `entry`'s stream entry, after `XADD key ... *`: `o` origin, `s` sequence, `d` payload. @internal */
export const toFields = (origin: string, entry: Entry): [string, string, string, number, string, Buffer] => [
  "o",
  origin,
  "s",
  entry.seq,
  "d",
  Buffer.from(entry.payload.buffer, entry.payload.byteOffset, entry.payload.byteLength)
]

// Its own memory, of its own size (Buffer.from would copy into a shared 8 KiB pool slab).
const copyOf = (bytes: Buffer): Buffer => {
  const copy = Buffer.allocUnsafeSlow(bytes.length)
  bytes.copy(copy)
  return copy
}

/**
 * A stream entry's fields as `toFields` wrote them; `undefined` for an entry that is not a hub's.
 * The payload is a copy: the reply's buffers are views into a socket read that holds every other
 * entry of the reply, and a slow subscriber would keep all of it alive. @internal
 */
export const fromFields = (
  fields: ReadonlyArray<Buffer>
): { readonly origin: string; readonly seq: number; readonly payload: Buffer } | undefined => {
  let origin: string | undefined
  let seq = Number.NaN
  let payload: Buffer | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString("latin1")
    if (name === "o") origin = fields[i + 1]!.toString("latin1")
    else if (name === "s") seq = Number(fields[i + 1]!.toString("latin1"))
    else if (name === "d") payload = copyOf(fields[i + 1]!)
  }
  return origin === undefined || payload === undefined || !Number.isSafeInteger(seq) ? undefined : { origin, seq, payload }
}

/**
 * Per topic, per publisher: the last sequence number delivered here. At most `maxPublishers` per
 * topic are remembered; the least recently heard is forgotten first.
 *
 * @internal
 */
export class Heard {
  private readonly topics = new Map<string, Map<string, number>>()
  constructor(readonly maxPublishers: number) {}

  /**
   * Whether entry `seq` of `origin` on `topic` is new here (not a duplicate, added again after a
   * reconnect); the entries missing before it are added to `lost` under `topic`.
   */
  accept(topic: string, origin: string, seq: number, lost: Map<string, number>): boolean {
    let publishers = this.topics.get(topic)
    if (publishers === undefined) this.topics.set(topic, publishers = new Map())
    const last = publishers.get(origin)
    if (last !== undefined && seq <= last) return false
    if (last !== undefined && seq > last + 1) lost.set(topic, (lost.get(topic) ?? 0) + seq - last - 1)
    publishers.delete(origin)
    publishers.set(origin, seq)
    if (publishers.size > this.maxPublishers) publishers.delete(publishers.keys().next().value!)
    return true
  }

  /** Forgets `topic` (no subscriber left here). */
  forget(topic: string): void {
    this.topics.delete(topic)
  }
}

/** This process's next sequence number per topic, from 1. @internal */
export class Sequences {
  private readonly last = new Map<string, number>()
  next(topic: string): number {
    const seq = (this.last.get(topic) ?? 0) + 1
    this.last.set(topic, seq)
    return seq
  }
}
