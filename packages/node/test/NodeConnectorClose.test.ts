/**
 * What a client connection holds is released by the time its scope's close returns: the close
 * handshake, then ws's "close" (its TCP socket gone), as a ws user awaits "close". A peer that
 * keeps TCP open after the handshake is not waited for: once both close frames were exchanged
 * the client drops its socket (RFC 6455 7.1.1 lets it).
 */
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { eventually } from "./fixtures.js"
import { closePayload, frame, frameReader, rawTcpServer, readHead, switchingProtocols } from "./hostile/raw.js"

/** TCP sockets open in this process (client and server ends alike). */
const tcpSockets = () => process.getActiveResourcesInfo().filter((kind) => kind === "TCPSocketWrap").length

describe("NodeConnector: a closed scope has released its connection", () => {
  it.live("a peer that answers the close but keeps TCP open: the scope's close returns at once, the client's socket gone", () =>
    Effect.gen(function*() {
      // Completes the handshake, answers the client's close frame, and never ends its side.
      const server = yield* rawTcpServer((socket) => {
        Effect.runFork(Effect.gen(function*() {
          const request = yield* readHead(socket)
          if (request === undefined) return
          socket.write(switchingProtocols(request.head))
          const reader = frameReader(socket, request.rest)
          const close = yield* reader.awaitClose
          if (close !== undefined) socket.write(frame({ opcode: 0x8, payload: closePayload(close.code) }))
        }))
      })
      const before = tcpSockets()
      yield* Effect.scoped(Effect.gen(function*() {
        yield* ByteChannel.connect(`ws://127.0.0.1:${server.port}/`)
        yield* eventually(() => server.sockets.size === 1, "the server has the connection")
        expect(tcpSockets(), "both ends open").toBe(before + 2)
        // A close timeout far above the test's own: the scope's close must not wait for the peer's FIN.
      })).pipe(Effect.provide(NodeConnector.layerWith({ closeTimeout: "60 seconds" })))
      // The server's end is still open (it never ends it); the client's is gone.
      expect(server.sockets.size).toBe(1)
      expect(tcpSockets(), "the client's TCP socket outlived its scope").toBe(before + 1)
    }))
})
