import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { EchoServer, program } from "../echo.js"

describe("examples/echo", () => {
  it.effect("echoes over the in-memory TestConnector", () =>
    Effect.gen(function*() {
      const { echoed, info } = yield* Effect.provide(program, EchoServer)
      expect(echoed).toBe("hello, byte channel")
      expect(info).toEqual({ code: 1000, reason: "done", wasClean: true, local: true })
    }))
})
