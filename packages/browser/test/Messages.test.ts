import { describe, expect, it } from "@effect/vitest"
import { ByteChannel } from "@bytechannel/core"
import { BrowserConnector } from "@bytechannel/browser"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { inject } from "vitest"

// What a user reads when connecting goes wrong: the same wording as the Node connector
// (packages/node/test/Messages.test.ts), with the schemes a browser supports.

const servers = inject("servers")
const strategies: ReadonlyArray<BrowserConnector.Strategy> = ["websocketstream", "websocket"]
const connect = (url: string, strategy: BrowserConnector.Strategy = "auto") =>
  ByteChannel.connect(url).pipe(Effect.provide(BrowserConnector.layerWith({ strategy })))
const openFailure = (url: string, strategy?: BrowserConnector.Strategy) => connect(url, strategy).pipe(Effect.flip, Effect.scoped)

describe("BrowserConnector error messages", () => {
  for (const strategy of strategies) {
    it.live(`a refused connection names the URL (${strategy})`, () =>
      Effect.gen(function*() {
        const url = `${servers.closed}/chat`
        const error = yield* openFailure(url, strategy)
        expect(error).toMatchObject({ _tag: "SocketError", reason: "Open", url })
        // A browser does not say why a connection failed; Node adds `: connect ECONNREFUSED ...`.
        expect(error.message.startsWith(`Open: cannot connect to ${url}`)).toBe(true)
        expect(String(error)).toBe(`SocketError: ${error.message}`)
      }))

    it.live(`http:// is ws://, as in WHATWG WebSocket (${strategy})`, () =>
      Effect.gen(function*() {
        const channel = yield* connect(`${servers.http}/echo`, strategy)
        yield* channel.send(new TextEncoder().encode("over http:"))
        const echoed = yield* channel.readChunk()
        expect(new TextDecoder().decode(Option.getOrThrow(echoed))).toBe("over http:")
      }).pipe(Effect.scoped))
  }

  it.effect("an unknown scheme lists the schemes that work", () =>
    Effect.gen(function*() {
      expect((yield* openFailure("localhost:80")).message).toBe(
        "Open: unsupported URL scheme \"localhost:\" in \"localhost:80\" (supported schemes: ws:, wss:, http:, https:); did you mean \"ws://localhost:80\"?"
      )
      expect((yield* openFailure("ftp://127.0.0.1/x")).message).toBe(
        "Open: unsupported URL scheme \"ftp:\" in \"ftp://127.0.0.1/x\" (supported schemes: ws:, wss:, http:, https:)"
      )
    }))

  it.effect("an empty or malformed URL says so", () =>
    Effect.gen(function*() {
      expect((yield* openFailure("")).message).toBe("Open: empty URL (supported schemes: ws:, wss:, http:, https:)")
      expect((yield* openFailure("ws://")).message).toBe("Open: invalid URL \"ws://\" (supported schemes: ws:, wss:, http:, https:)")
    }))

  it.live("send after the peer closed says who closed and that sending is over", () =>
    Effect.gen(function*() {
      const channel = yield* connect(`${servers.ws}/close?code=4000&reason=bye`)
      yield* channel.closed
      const error = yield* Effect.flip(channel.send(new Uint8Array([1])))
      expect(error.message).toBe("Closed: cannot send after the peer closed the connection (code 4000 \"bye\")")
    }).pipe(Effect.scoped))
})
