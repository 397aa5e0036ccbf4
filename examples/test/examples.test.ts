import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { main as transfer } from "../file-transfer.js"
import { main as tcpLines } from "../tcp-lines.js"

describe("examples", () => {
  it.live("file-transfer: a 6 MiB file arrives with the same SHA-256", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "bytechannel-example-"))
      const file = join(dir, "sample.bin")
      writeFileSync(file, randomBytes(6 * 1024 * 1024 + 123))
      const { remote, expected } = yield* transfer(file)
      expect(remote).toBe(expected)
    }))

  it.live("file-transfer: the default run (a generated 32 MiB file) arrives intact", () =>
    Effect.gen(function*() {
      const { remote, expected } = yield* transfer()
      expect(remote).toBe(expected)
    }))

  it.live("tcp-lines: lines over raw TCP, answered in upper case", () =>
    Effect.gen(function*() {
      expect(yield* tcpLines).toEqual(["RAW TCP", "SAME CODECS", "HÉLLO WÖRLD"])
    }))
})
