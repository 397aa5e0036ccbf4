/**
 * The smallest bytechannel program: connect, send, read the echo, close.
 *
 * `program` depends only on `Connector`; which transport carries it is decided by the layer
 * it is given. Here it is the in-memory `TestConnector`, serving an echo handler; swapping in
 * `NodeConnector.layer` (or `BrowserConnector.layer`) runs the same text over a real WebSocket.
 *
 * Run: `pnpm demo`
 */
import { ByteChannel, TestConnector } from "@bytechannel/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { pathToFileURL } from "node:url"

// The client: any platform, any transport.
export const program = Effect.gen(function*() {
  const channel = yield* ByteChannel.connect("ws://127.0.0.1:8080/echo")
  const text = new TextEncoder()
  yield* Stream.make("hello, ", "byte ", "channel").pipe(Stream.map((s) => text.encode(s)), Stream.run(channel.write))
  const echoed = yield* channel.read.pipe(
    Stream.decodeText(),
    Stream.scan("", (all, part) => all + part),
    Stream.takeUntil((all) => all.length >= "hello, byte channel".length),
    Stream.runLast
  )
  const info = yield* channel.close({ code: 1000, reason: "done" })
  return { echoed: echoed._tag === "Some" ? echoed.value : "", info }
}).pipe(Effect.scoped)

// The server side, in memory: echo every byte back until the client closes.
export const EchoServer = TestConnector.layer((channel) => Stream.run(channel.read, channel.write))

export const main = program.pipe(
  Effect.tap(({ echoed, info }) =>
    Console.log(`echoed: ${JSON.stringify(echoed)}\nclosed: code ${info.code} ${JSON.stringify(info.reason)} clean=${info.wasClean}`)
  ),
  Effect.provide(EchoServer)
)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Effect.runPromise(main).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
