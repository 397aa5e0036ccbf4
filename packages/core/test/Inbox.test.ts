import { describe, expect, it } from "@effect/vitest"
import { Inbox } from "../src/internal/inbox.js"

const message = (n: number) => new Uint8Array(n % 7).fill(n % 251)

describe("Inbox", () => {
  it("keeps messages in order and their bytes counted through growth, wraparound and shrinking", () => {
    const inbox = new Inbox()
    const expected: Array<Uint8Array> = []
    let next = 0
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    // Bursts of up to 300 pushed, then some taken: the ring grows past its first size, wraps
    // around with its head in the middle, and is given back once drained.
    for (let round = 0; round < 200; round++) {
      const pushes = Math.floor(random() * (round % 10 === 0 ? 300 : 6))
      for (let i = 0; i < pushes; i++) {
        const m = message(next++)
        inbox.push(m)
        expected.push(m)
      }
      const takes = Math.min(expected.length, Math.floor(random() * 8) + (round % 25 === 0 ? 1000 : 0))
      for (let i = 0; i < takes; i++) expect(inbox.shift()).toBe(expected.shift())
      expect(inbox.size).toBe(expected.length)
      expect(inbox.bytes).toBe(expected.reduce((sum, m) => sum + m.byteLength, 0))
    }
    while (expected.length > 0) expect(inbox.shift()).toBe(expected.shift())
    expect(inbox.size).toBe(0)
    expect(inbox.bytes).toBe(0)
  })

  it("wakes waiting readers one per message, first come first woken; a removed reader is not woken", () => {
    const inbox = new Inbox()
    const woken: Array<string> = []
    const waker = (name: string) => () => woken.push(name)
    const a = waker("a"), b = waker("b"), c = waker("c"), d = waker("d")
    inbox.addWaker(a)
    inbox.addWaker(b)
    inbox.addWaker(c)
    inbox.addWaker(d)
    inbox.removeWaker(b, false) // gave up before any message
    inbox.push(message(1))
    expect(woken).toEqual(["a"])
    inbox.removeWaker(a, true) // woken, then interrupted before taking: its wake-up goes on
    expect(woken).toEqual(["a", "c"])
    inbox.shift()
    inbox.removeWaker(c, true) // woken, but the message is gone: nobody to wake for nothing
    expect(woken).toEqual(["a", "c"])
    inbox.push(message(2))
    expect(woken).toEqual(["a", "c", "d"])
    inbox.push(message(3)) // nobody waits
    expect(woken).toEqual(["a", "c", "d"])
  })

  it("finish wakes every waiting reader once; one that waits again from its wake-up waits for the next", () => {
    const inbox = new Inbox()
    const woken: Array<string> = []
    const again = () => woken.push("again")
    const a = () => {
      woken.push("a")
      inbox.addWaker(again)
    }
    inbox.addWaker(a)
    inbox.addWaker(() => woken.push("b"))
    inbox.addWaker(() => woken.push("c"))
    inbox.finish()
    expect(woken).toEqual(["a", "b", "c"])
    inbox.finish()
    expect(woken).toEqual(["a", "b", "c", "again"])
    inbox.finish()
    expect(woken).toEqual(["a", "b", "c", "again"])
  })
})
