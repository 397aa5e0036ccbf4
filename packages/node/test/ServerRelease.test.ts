// A served connection is counted (and its fiber kept) until ws let go of its TCP connection, not
// only until the close handshake (issue #23): a server that counts none open holds none.
import { NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import { eventually } from "./fixtures.js"
import { closePayload, frame, frameReader, readHead, upgradeRequest } from "./hostile/raw.js"

describe("NodeServer connection count", () => {
  it.live("a closed connection whose peer keeps TCP open is counted until the peer ends it", () =>
    Effect.gen(function*() {
      const server = yield* NodeServer.serve({ closeTimeout: "30 seconds" }, (channel) => channel.closed)
      const socket = yield* Effect.acquireRelease(
        Effect.callback<Net.Socket, Error>((resume) => {
          // Half-open allowed: the server's FIN does not end this side.
          const socket = Net.connect({ host: "127.0.0.1", port: server.port, allowHalfOpen: true })
          socket.on("error", () => {})
          socket.once("connect", () => resume(Effect.succeed(socket)))
        }),
        (socket) => Effect.sync(() => socket.destroy())
      )
      socket.write(upgradeRequest("/"))
      const answer = yield* readHead(socket)
      expect(answer?.head.startsWith("HTTP/1.1 101")).toBe(true)
      const reader = frameReader(socket, answer!.rest)
      yield* eventually(() => server.connections() === 1, "the connection counted")
      const ended = new Promise<void>((resolve) => socket.once("end", resolve))
      socket.write(frame({ opcode: 0x8, payload: closePayload(1000), mask: true }))
      expect(yield* reader.awaitClose).toEqual({ code: 1000, reason: "" })
      // The server answered the close and sent its FIN: the handshake is over, TCP is not.
      yield* Effect.promise(() => ended)
      expect(server.connections()).toBe(1)
      socket.end()
      yield* eventually(() => server.connections() === 0, "the connection released")
    }))
})
