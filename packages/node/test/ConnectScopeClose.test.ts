// ByteChannel.connect's scope close: the peer sees 1000 from every connector, with and without a
// closeTimeout (without one, the connector's own close is the channel's).
import { ByteChannel, type Connector, TestConnector, WebSocketConnector } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"

const connectors: ReadonlyArray<readonly [string, Layer.Layer<Connector.Connector> | "test", string]> = [
  ["NodeConnector ws", NodeConnector.layer, "ws"],
  ["NodeConnector tcp", NodeConnector.layer, "tcp"],
  ["WebSocketConnector", WebSocketConnector.layer, "ws"],
  ["TestConnector", "test", "test"]
]

describe("ByteChannel.connect scope close", () => {
  for (const [name, layer, kind] of connectors) {
    for (const closeTimeout of [undefined, "2 seconds"] as const) {
      it.live(`${name}, closeTimeout ${closeTimeout ?? "unset"}: the peer sees 1000 when the scope closes`, () =>
        Effect.gen(function*() {
          const seen = yield* Deferred.make<{ readonly code: number; readonly local: boolean }>()
          const handler = (channel: ByteChannel.ByteChannel) =>
            Effect.flatMap(channel.closed, (info) => Deferred.succeed(seen, { code: info.code, local: info.local }))
          let url: string
          let provided: Layer.Layer<Connector.Connector>
          if (layer === "test") {
            url = "ws://test/"
            provided = TestConnector.layer(handler)
          } else if (kind === "tcp") {
            url = (yield* NodeServer.serveTcp({}, handler)).url
            provided = layer
          } else {
            url = (yield* NodeServer.serve({}, handler)).url
            provided = layer
          }
          yield* Effect.gen(function*() {
            const channel = yield* ByteChannel.connect(url, closeTimeout === undefined ? {} : { closeTimeout })
            yield* Stream_writeOne(channel)
          }).pipe(Effect.scoped, Effect.provide(provided))
          expect(yield* Deferred.await(seen).pipe(Effect.timeout("5 seconds"))).toEqual({ code: 1000, local: false })
        }).pipe(Effect.scoped))
    }
  }
})

const Stream_writeOne = (channel: ByteChannel.ByteChannel) => Stream.run(Stream.make(new Uint8Array([1])), channel.write)
