import { describe, expect, it } from "@effect/vitest"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { EchoServer, echo, main } from "../echo.js"

describe("examples/echo", () => {
  it.effect("echoes over the in-memory TestConnector", () =>
    Effect.gen(function*() {
      const { echoed, info } = yield* Effect.provide(echo("ws://in-memory/echo"), EchoServer)
      expect(echoed).toBe("hello, byte channel")
      expect(info).toEqual({ code: 1000, reason: "done", wasClean: true, local: true })
    }))

  it.live("the same program over a real WebSocket", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({ path: "/echo" }, (channel) => Stream.run(channel.read, channel.write))
      const { echoed } = yield* Effect.provide(echo(server.url), NodeConnector.layer)
      expect(echoed).toBe("hello, byte channel")
    }).pipe(Effect.scoped))

  it.live("main runs both", () => main)
})
