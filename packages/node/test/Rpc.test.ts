/**
 * `effect/rpc` over bytechannel, both ends: the client's protocol is `RpcClient.layerProtocolSocket`
 * on `EffectSocket.toSocket` over a `ByteChannel.connect`, the server's is
 * `RpcServer.layerProtocolSocketServer` on `NodeSocketServer`. Real ws on 127.0.0.1, OS-chosen
 * port; every wait bounded.
 */
import { describe, expect, it } from "@effect/vitest"
import { ByteChannel } from "@bytechannel/core"
import * as EffectSocket from "@bytechannel/core/EffectSocket"
import { NodeConnector } from "@bytechannel/node"
import * as NodeSocketServer from "@bytechannel/node/NodeSocketServer"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import { Rpc, RpcClient, RpcGroup, RpcSerialization, RpcServer } from "effect/rpc"
import * as Schema from "effect/Schema"
import * as Socket from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import * as Stream from "effect/Stream"

const WAIT = "10 seconds"

const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(effect, { duration: WAIT, orElse: () => Effect.die(new Error(`no ${what} within ${WAIT}`)) })

class Numbers extends RpcGroup.make(
  Rpc.make("Count", { payload: { upTo: Schema.Number }, success: Schema.Number, stream: true }),
  Rpc.make("Produced", { success: Schema.Number }),
  Rpc.make("Echo", { payload: { text: Schema.String }, success: Schema.String })
) {}

/**
 * The RPC server on NodeSocketServer (127.0.0.1, port 0), and what its `Count` streams produced:
 * `produced` counts every item the server's stream made, `ended` completes when that stream ended.
 */
const startServer = Effect.gen(function*() {
  const produced = { count: 0 }
  const ended = yield* Deferred.make<void>()
  const handlers = Numbers.toLayer({
    // One item per chunk, each counted when made: the stream is pulled, so what is made is what
    // the client asked for (effect/rpc acknowledges each chunk when its consumer's buffer takes it).
    Count: ({ upTo }) =>
      Stream.range(1, upTo, 1).pipe(
        Stream.tap(() => Effect.sync(() => produced.count++)),
        Stream.ensuring(Deferred.succeed(ended, undefined))
      ),
    Produced: () => Effect.sync(() => produced.count),
    Echo: ({ text }) => Effect.succeed(text)
  })
  const sockets = yield* Layer.build(NodeSocketServer.layer({ path: "/rpc" }))
  const address = Context.get(sockets, SocketServer.SocketServer).address
  if (address._tag === "UnixPathAddress") return yield* Effect.die(new Error("expected an internet address"))
  yield* Layer.build(
    RpcServer.layer(Numbers).pipe(
      Layer.provide([handlers, RpcServer.layerProtocolSocketServer]),
      Layer.provide([RpcSerialization.layerNdjson, Layer.succeedContext(sockets)])
    )
  )
  return { url: `ws://127.0.0.1:${address.port}/rpc`, produced, ended: Deferred.await(ended) }
})

/** An RPC client whose socket is a bytechannel connection to `url`. */
const connectClient = (url: string) =>
  Effect.gen(function*() {
    const channel = yield* ByteChannel.connect(url)
    const protocol = yield* Layer.build(
      RpcClient.layerProtocolSocket().pipe(
        Layer.provide([Layer.succeed(Socket.Socket)(EffectSocket.toSocket(channel)), RpcSerialization.layerNdjson])
      )
    )
    return yield* RpcClient.make(Numbers).pipe(Effect.provide(protocol))
  }).pipe(Effect.provide(NodeConnector.layer))

describe("effect/rpc over bytechannel (RpcClient.layerProtocolSocket on EffectSocket.toSocket, RpcServer on NodeSocketServer)", () => {
  it.live("unary and streaming calls", () =>
    Effect.gen(function*() {
      const server = yield* startServer
      const client = yield* connectClient(server.url)
      expect(yield* within("echo", client.Echo({ text: "héllo" }))).toBe("héllo")
      const all = yield* within("stream", Stream.runCollect(client.Count({ upTo: 1000 })))
      expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
      expect(server.produced.count).toBe(1000)
    }))

  it.live("a slow consumer keeps the server's production bounded: 100k items asked, a few read, the stream pulled not pushed", () =>
    Effect.gen(function*() {
      const server = yield* startServer
      const client = yield* connectClient(server.url)
      // The client's buffer of this stream (effect/rpc's default): what the server may run ahead.
      const buffer = 16
      const bound = 1 + buffer + 2
      const seen = yield* Effect.scoped(Effect.gen(function*() {
        const items = yield* client.Count({ upTo: 100_000 }, { asQueue: true, streamBufferSize: buffer })
        const seen = [yield* within("the first item", Queue.take(items))]
        // The consumer now stops reading. The server fills the client's buffer (one chunk per
        // acknowledgement, so this takes a round trip per item) and then must wait: probe how
        // much it made, over the same connection, until the buffer is full...
        let produced = 0
        for (let probes = 0; produced < 1 + buffer; probes++) {
          if (probes === 1_000) return yield* Effect.die(new Error(`the server made only ${produced} items`))
          produced = yield* within("a probe", client.Produced())
        }
        // ...then give it 200 more round trips, a clock made of traffic: a server pushing without
        // waiting for the consumer would make at least one item per round trip.
        for (let probes = 0; probes < 200; probes++) produced = yield* within("a probe", client.Produced())
        expect(produced).toBeLessThanOrEqual(bound)
        // Reading resumes production; then the consumer stops for good (its scope closes).
        while (seen.length < 5) seen.push(yield* within("an item", Queue.take(items)))
        return seen
      }))
      expect(seen).toEqual([1, 2, 3, 4, 5])
      // The consumer is gone: the server's stream ends (interrupted), having made little more.
      yield* within("the server's stream to end", server.ended)
      expect(server.produced.count).toBeLessThanOrEqual(bound + 4)
    }))
})
