/**
 * What an open server connection keeps: once its handler has started, nothing the handler did
 * not keep itself (its ConnectionInfo and the request's headers go with the upgrade, as in ws).
 */
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as v8 from "node:v8"
import * as vm from "node:vm"

v8.setFlagsFromString("--expose-gc")
const gc: () => void = vm.runInNewContext("gc")
// A WeakRef's target lives at least until the end of the job that made or read it.
const nextTurn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

describe("server retention", () => {
  it.live("an open connection whose handler did not keep its ConnectionInfo does not keep it (nor the headers)", () =>
    Effect.gen(function*() {
      const refs: Array<WeakRef<object>> = []
      const server = yield* NodeServer.serve({}, (channel, info) => {
        refs.push(new WeakRef(info), new WeakRef(info.headers))
        return Stream.run(channel.read, channel.write)
      })
      yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(server.url)
        yield* channel.send(new Uint8Array([1, 2, 3]))
        expect([...Option.getOrThrow(yield* channel.readChunk())]).toEqual([1, 2, 3])
        yield* nextTurn
        gc()
        expect(refs).toHaveLength(2)
        expect(refs.map((ref) => ref.deref() === undefined), "ConnectionInfo, headers collected").toEqual([true, true])
        // And the connection still serves.
        yield* channel.send(new Uint8Array([4]))
        expect([...Option.getOrThrow(yield* channel.readChunk())]).toEqual([4])
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
    }))
})
