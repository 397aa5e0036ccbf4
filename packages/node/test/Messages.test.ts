import { describe, expect, it } from "@effect/vitest"
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Net from "node:net"

// What a user reads when connecting goes wrong. The browser connector's test
// (packages/browser/test/Messages.test.ts) asserts the same wording.

const connect = (url: string) => ByteChannel.connect(url).pipe(Effect.provide(NodeConnector.layer))
const openFailure = (url: string) => connect(url).pipe(Effect.flip, Effect.scoped)

/** A port on 127.0.0.1 that nothing listens on (the OS chose it, then it was closed). */
const closedPort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const probe = Net.createServer().listen(0, "127.0.0.1", () => {
      const port = (probe.address() as Net.AddressInfo).port
      probe.close(() => resolve(port))
    })
  })
)

const echo = (channel: ByteChannel.ByteChannel) => Stream.run(channel.read, channel.write)

describe("NodeConnector error messages", () => {
  it.live("a refused connection names the URL", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const ws = yield* openFailure(`ws://127.0.0.1:${port}/chat`)
      expect(ws).toMatchObject({ _tag: "SocketError", reason: "Open", url: `ws://127.0.0.1:${port}/chat` })
      expect(ws.message).toBe(`Open: cannot connect to ws://127.0.0.1:${port}/chat: connect ECONNREFUSED 127.0.0.1:${port}`)
      expect(String(ws)).toBe(`SocketError: ${ws.message}`)
      const tcp = yield* openFailure(`tcp://127.0.0.1:${port}`)
      expect(tcp.message).toBe(`Open: cannot connect to tcp://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`)
    }))

  it.live("input ws would throw on is a typed Open error, never a defect; a password never reaches a message", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const fragment = yield* openFailure(`ws://127.0.0.1:${port}/#part`)
      expect(fragment).toMatchObject({ _tag: "SocketError", reason: "Open" })
      expect(fragment.message).toContain("no fragment")
      const header = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/`).pipe(
        Effect.provide(NodeConnector.layerWith({ headers: { "x-bad": "a\r\nInjected: 1" } })),
        Effect.flip,
        Effect.scoped
      )
      expect(header).toMatchObject({ _tag: "SocketError", reason: "Open" })
      const secret = yield* openFailure(`ws://user:s3cret@127.0.0.1:${port}/`)
      expect(secret.message).not.toContain("s3cret")
      expect(secret.url).toBe(`ws://user:***@127.0.0.1:${port}/`)
    }))

  it.live("a refused handshake names the URL and the HTTP status", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({ host: "127.0.0.1", port: 0, path: "/echo" }, echo)
      const url = server.url.replace(/\/echo$/, "/nope")
      const error = yield* openFailure(url)
      expect(error.message).toBe(`Open: cannot connect to ${url}: the server answered the handshake with HTTP 404`)
    }))

  it.live("http:// and https:// are ws:// and wss://, as in ws and WHATWG WebSocket", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({ host: "127.0.0.1", port: 0, path: "/echo" }, echo)
      const channel = yield* connect(server.url.replace(/^ws:/, "http:"))
      yield* channel.send(new TextEncoder().encode("over http:"))
      const echoed = yield* channel.readChunk()
      expect(new TextDecoder().decode(Option.getOrThrow(echoed))).toBe("over http:")
      // https: becomes wss: (a TLS handshake against a plain server fails, naming the wss: URL).
      const tls = yield* openFailure(server.url.replace(/^ws:/, "https:"))
      expect(tls.url).toBe(server.url.replace(/^ws:/, "wss:"))
    }))

  it.effect("an unknown scheme lists the schemes that work", () =>
    Effect.gen(function*() {
      expect((yield* openFailure("localhost:80")).message).toBe(
        "Open: unsupported URL scheme \"localhost:\" in \"localhost:80\" (supported schemes: ws:, wss:, http:, https:, tcp:); did you mean \"ws://localhost:80\"?"
      )
      expect((yield* openFailure("ftp://127.0.0.1/x")).message).toBe(
        "Open: unsupported URL scheme \"ftp:\" in \"ftp://127.0.0.1/x\" (supported schemes: ws:, wss:, http:, https:, tcp:)"
      )
    }))

  it.effect("an empty or malformed URL says so", () =>
    Effect.gen(function*() {
      expect((yield* openFailure("")).message).toBe("Open: empty URL (supported schemes: ws:, wss:, http:, https:, tcp:)")
      expect((yield* openFailure("ws://")).message).toBe("Open: invalid URL \"ws://\" (supported schemes: ws:, wss:, http:, https:, tcp:)")
    }))

  it.live("send after the peer closed says who closed and that sending is over", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve(
        { host: "127.0.0.1", port: 0, path: "/bye" },
        (channel) => Effect.asVoid(channel.close({ code: 4000, reason: "bye" }))
      )
      const channel = yield* connect(server.url)
      yield* channel.closed
      const error = yield* Effect.flip(channel.send(new Uint8Array([1])))
      expect(error.message).toBe("Closed: cannot send after the peer closed the connection (code 4000 \"bye\")")
    }))
})
