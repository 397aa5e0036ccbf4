/**
 * The Redis hub's plain bookkeeping (src/internal/entries.ts), without Redis: the entry format,
 * the rings, the per-publisher sequences.
 */
import { describe, expect, it } from "@effect/vitest"
import { fromFields, Heard, Ring, Sequences, toFields } from "../src/internal/entries.js"

const asBuffers = (fields: ReadonlyArray<string | number | Buffer>) => fields.map((f) => (Buffer.isBuffer(f) ? f : Buffer.from(String(f), "latin1")))

describe("entries", () => {
  it("a payload is its own copy, not a view into the reply's socket read (a slow subscriber would keep the whole read alive)", () => {
    const read = Buffer.alloc(64 * 1024, 1) // as ioredis hands out: every field a view into one socket chunk
    const fields = [read.subarray(0, 1).fill(0x6f), read.subarray(1, 7), read.subarray(7, 8).fill(0x73), read.subarray(8, 9).fill(0x31), read.subarray(9, 10).fill(0x64), read.subarray(10, 12)]
    const entry = fromFields(fields)!
    expect([...entry.payload]).toEqual([1, 1])
    expect(entry.payload.buffer.byteLength).toBe(2)
    read.fill(2)
    expect([...entry.payload]).toEqual([1, 1])
  })

  it("an entry's fields read back as written; an entry that is not a hub's is undefined", () => {
    const payload = new Uint8Array([9, 8, 7, 6]).subarray(1, 3)
    const read = fromFields(asBuffers(toFields("node-a", { topic: "t", seq: 42, payload })))
    expect(read?.origin).toBe("node-a")
    expect(read?.seq).toBe(42)
    expect([...read!.payload]).toEqual([8, 7])
    expect(fromFields(asBuffers(["o", "node-a", "d", Buffer.from([1])]))).toBeUndefined() // no sequence
    expect(fromFields(asBuffers(["o", "node-a", "s", "x", "d", Buffer.from([1])]))).toBeUndefined() // not a number
    expect(fromFields(asBuffers(["s", 1, "d", Buffer.from([1])]))).toBeUndefined() // no origin
    expect(fromFields(asBuffers(["o", "node-a", "s", 1]))).toBeUndefined() // no payload
  })

  it("Heard drops duplicates, counts gaps per topic, keeps topics apart and forgets", () => {
    const heard = new Heard(16)
    const lost = new Map<string, number>()
    expect(heard.accept("t", "a", 5, lost)).toBe(true) // the first heard: no gap before it
    expect(heard.accept("t", "a", 5, lost)).toBe(false)
    expect(heard.accept("t", "a", 3, lost)).toBe(false)
    expect(heard.accept("t", "a", 6, lost)).toBe(true)
    expect(heard.accept("t", "a", 9, lost)).toBe(true)
    expect(lost.get("t")).toBe(2)
    expect(heard.accept("u", "a", 1, lost)).toBe(true)
    expect(heard.accept("t", "b", 1, lost)).toBe(true)
    expect(lost.has("u")).toBe(false)
    heard.forget("t")
    expect(heard.accept("t", "a", 9, lost)).toBe(true)
  })

  it("Heard forgets the least recently heard publisher beyond its bound", () => {
    const heard = new Heard(2)
    const lost = new Map<string, number>()
    heard.accept("t", "a", 1, lost)
    heard.accept("t", "b", 1, lost)
    heard.accept("t", "a", 2, lost) // a is now the most recent
    heard.accept("t", "c", 1, lost) // b is forgotten
    expect(heard.accept("t", "a", 2, lost)).toBe(false)
    expect(heard.accept("t", "b", 1, lost)).toBe(true) // b again, as if new
  })

  it("Ring keeps the newest `capacity` items in order, and says when it dropped one", () => {
    const ring = new Ring<number>(3)
    expect([1, 2, 3].map((n) => ring.push(n))).toEqual([false, false, false])
    expect(ring.push(4)).toBe(true)
    expect(ring.toArray()).toEqual([2, 3, 4])
    expect(ring.take(2)).toEqual([2, 3])
    expect(ring.size).toBe(1)
    ring.push(5)
    ring.push(6)
    expect(ring.take(10)).toEqual([4, 5, 6])
    expect(new Ring<number>(0).push(1)).toBe(true)
  })

  it("Sequences number each topic from 1", () => {
    const seqs = new Sequences()
    expect([seqs.next("t"), seqs.next("t"), seqs.next("u"), seqs.next("t")]).toEqual([1, 2, 1, 3])
  })
})
