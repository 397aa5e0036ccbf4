// serveTcp: a connection closed gracefully at the end of its fiber ends with a FIN (the client
// reads all the data, then 'end'), never a reset from the drop of a connection left open.
import { NodeServer } from "@bytechannel/node"
import type { ByteChannel } from "@bytechannel/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import { eventually } from "./fixtures.js"

interface Seen {
  bytes: number
  ended: boolean
  error: string | undefined
  closed: boolean
}

const client = (url: string, opts: { readonly halfClose: boolean; readonly pauseUntil?: number }) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const { hostname, port } = new URL(url)
      const seen: Seen = { bytes: 0, ended: false, error: undefined, closed: false }
      const socket = Net.connect({ host: hostname, port: Number(port), allowHalfOpen: true })
      socket.on("data", (b: Buffer) => (seen.bytes += b.length))
      socket.on("end", () => {
        seen.ended = true
        socket.end()
      })
      socket.on("error", (e: NodeJS.ErrnoException) => (seen.error = e.code ?? e.message))
      socket.on("close", () => (seen.closed = true))
      if (opts.halfClose) socket.once("connect", () => socket.end())
      return { socket, seen }
    }),
    ({ socket }) => Effect.sync(() => socket.destroy())
  )

const BIG = 4 * 1024 * 1024

describe("serveTcp wire at the end of a connection's fiber", () => {
  const cases: ReadonlyArray<readonly [string, (channel: ByteChannel.ByteChannel) => Effect.Effect<void, unknown>, boolean]> = [
    ["returns at once", () => Effect.void, false],
    ["sends 4 MiB and returns", (channel) => channel.send(new Uint8Array(BIG)), false],
    ["sends 4 MiB, closes itself, returns", (channel) => Effect.andThen(channel.send(new Uint8Array(BIG)), channel.close()), false],
    ["(peer half-closed first) returns at once", () => Effect.void, true]
  ]
  for (const [name, handler, halfClose] of cases) {
    it.live(`a handler that ${name}: the client sees all bytes, then FIN, no reset; released`, () =>
      Effect.gen(function*() {
        const server = yield* NodeServer.serveTcp({ host: "127.0.0.1", port: 0 }, handler)
        const { seen } = yield* client(server.url, { halfClose })
        yield* eventually(() => seen.closed, () => `closed: ${JSON.stringify(seen)}`)
        expect(seen).toEqual({
          bytes: name.includes("4 MiB") ? BIG : 0,
          ended: true,
          error: undefined,
          closed: true
        })
        yield* eventually(() => server.connections() === 0, "released")
      }).pipe(Effect.scoped))
  }
})
