import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as ByteChannel from "../ByteChannel.js"
import * as Connector from "../Connector.js"
import * as MemorySocket from "../MemorySocket.js"
import * as MessageSocket from "../MessageSocket.js"
import { SocketError } from "../SocketError.js"
import type * as TestConnector from "../TestConnector.js"

/** @internal */
export const layerWith = <E, R>(
  handler: (channel: ByteChannel.ByteChannel, request: TestConnector.ConnectRequest) => Effect.Effect<void, E, R>,
  options?: TestConnector.TestConnectorOptions
): Layer.Layer<Connector.Connector, never, Exclude<R, Scope.Scope>> =>
  Layer.effect(
    Connector.Connector,
    Effect.gen(function*() {
      // One fiber per connection, interrupted (1001) when the layer closes, gone when it ends.
      const run = yield* FiberSet.makeRuntime<Exclude<R, Scope.Scope>>()

      return Connector.make((url, connectOptions) =>
        Effect.gen(function*() {
          const parsed = yield* Effect.try({
            try: () => new URL(url),
            catch: (cause) => new SocketError({ reason: "Open", cause, detail: `invalid URL ${String(url)}` })
          })
          const protocols = Connector.protocolList(connectOptions?.protocols)
          if (options?.accept) yield* options.accept({ url: parsed, protocols })
          const [client, server] = yield* MemorySocket.makePair({
            ...options?.pair,
            protocol: options?.pair?.protocol ?? protocols[0] ?? ""
          })
          yield* MessageSocket.closeOnScopeClose(client)
          const request = { url: parsed, protocols, socket: server }
          run(ByteChannel.handle(server, (channel) => handler(channel, request), { channel: options?.channel }))
          return client
        })
      )
    })
  )
