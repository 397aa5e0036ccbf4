/**
 * The same codecs over raw TCP: a line server that answers every line in upper case, and a
 * client that connects with a tcp:// URL through the same NodeConnector and Framed API.
 *
 * Run: `node examples/dist/tcp-lines.js`
 */
import { ByteChannel, Codec } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { pathToFileURL } from "node:url"

export const shoutServer = NodeServer.serveTcp({}, (channel) => {
  const lines = ByteChannel.framed(channel, Codec.lines())
  return lines.messages.pipe(Stream.map((line) => line.toUpperCase()), Stream.run(lines.sink))
})

export const main = Effect.gen(function*() {
  const server = yield* shoutServer
  const replies = yield* Effect.gen(function*() {
    const lines = ByteChannel.framed(yield* ByteChannel.connect(server.url), Codec.lines())
    yield* Stream.make("raw tcp", "same codecs", "héllo wörld").pipe(Stream.run(lines.sink))
    return yield* lines.messages.pipe(Stream.take(3), Stream.runCollect)
  }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
  for (const reply of replies) console.log(`${server.url} says: ${reply}`)
  return replies
}).pipe(Effect.scoped)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Effect.runPromise(main).catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
