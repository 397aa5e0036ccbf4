/**
 * The CLI's checked ndjson decoder against Codec.ndjson(Schema.Unknown), on random inputs split at
 * random: the same lines (as values) and the same error (tag, reason, line).
 */
import { describe, expect, it } from "@effect/vitest"
import { Codec } from "@bytechannel/core"
import * as Schema from "effect/Schema"
import * as framing from "../src/internal/framing.js"

const enc = new TextEncoder()
const pieces = [
  `{"a":1}`, `[1,2]`, `"s"`, `1`, `1e400`, ``, `  `, `\t`, `\uFEFF{"b":2}`, `\uFEFF`, `{"a":`, `not json`, `{"é":"ü"}`,
  `\r`, `{"x":1} `, `{"x":1}\r`, `null`, `\u00a0`, `{"k":"${"z".repeat(20)}"}`
]
const seps = ["\n", "\r\n"]

// Deterministic PRNG
let seed = 12345
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
}

const run = (codec: Codec.Codec<any>, chunks: Array<Uint8Array>) => {
  const d = codec.decoder()
  const out: Array<unknown> = []
  for (const c of chunks) {
    const e = d.decode(c, out)
    if (e) return { out, error: { tag: e._tag, reason: (e as any).reason, frame: (e as any).frame } }
  }
  const e = d.end(out)
  return { out, error: e ? { tag: e._tag, reason: (e as any).reason, frame: (e as any).frame } : undefined }
}

describe("CLI ndjson decoder against Codec.ndjson", () => {
  for (const maxFrame of [undefined, 12]) {
    it(`same lines and errors as Codec.ndjson(Schema.Unknown) (maxFrame ${maxFrame})`, () => {
      const mine = framing.make({ codec: "ndjson", text: false, maxFrame }).withCodec!((c) => c as Codec.Codec<string>)
      const old = Codec.ndjson(Schema.Unknown, maxFrame === undefined ? undefined : { maxLength: maxFrame })
      const mismatches: Array<unknown> = []
      for (let i = 0; i < 3000 && mismatches.length < 5; i++) {
        const n = 1 + rnd(6)
        let text = ""
        for (let j = 0; j < n; j++) text += pieces[rnd(pieces.length)] + (j === n - 1 && rnd(3) === 0 ? "" : seps[rnd(2)])
        let bytes = enc.encode(text)
        if (rnd(8) === 0) {
          const b = new Uint8Array(bytes.length + 1)
          const at = rnd(bytes.length + 1)
          b.set(bytes.subarray(0, at)); b[at] = 0xff; b.set(bytes.subarray(at), at + 1)
          bytes = b
        }
        const chunks: Array<Uint8Array> = []
        for (let at = 0; at < bytes.length;) {
          const len = 1 + rnd(8)
          chunks.push(bytes.slice(at, at + len))
          at += len
        }
        const a = run(old, chunks)
        const b = run(mine, chunks)
        const bValues = b.out.map((l) => JSON.parse(l as string))
        const ok = JSON.stringify(a.error) === JSON.stringify(b.error) && JSON.stringify(a.out) === JSON.stringify(bValues)
        if (!ok) mismatches.push({ text: JSON.stringify(text), old: a, mine: { out: b.out, error: b.error } })
      }
      expect(mismatches).toEqual([])
    })
  }
})
