/**
 * The smallest bytechannel program: connect, send, read the echo, close.
 *
 * `echo` depends only on `Connector`; which transport carries it is decided by the layer it is
 * given. `main` runs it twice without changing a line: in memory (`TestConnector`) and over a
 * real WebSocket (`NodeServer` on 127.0.0.1 with an OS-chosen port, `NodeConnector`).
 *
 * Run: `pnpm demo`
 */
import { ByteChannel, TestConnector } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { pathToFileURL } from "node:url"

// The client: any platform, any transport.
export const echo = (url: string) =>
  Effect.gen(function*() {
    const channel = yield* ByteChannel.connect(url)
    const text = new TextEncoder()
    yield* Stream.make("hello, ", "byte ", "channel").pipe(Stream.map((s) => text.encode(s)), Stream.run(channel.write))
    const echoed = yield* channel.read.pipe(
      Stream.decodeText(),
      Stream.scan(() => "", (all: string, part: string) => all + part),
      Stream.takeUntil((all) => all.length >= "hello, byte channel".length),
      Stream.runLast
    )
    const info = yield* channel.close({ code: 1000, reason: "done" })
    return { echoed: echoed._tag === "Some" ? echoed.value : "", info }
  }).pipe(Effect.scoped)

// The server side: echo every byte back until the client closes.
const echoHandler = (channel: ByteChannel.ByteChannel) => Stream.run(channel.read, channel.write)

// In memory: TestConnector runs the handler as the server side of every connect.
export const EchoServer = TestConnector.layer(echoHandler)

const report = (transport: string) => ({ echoed, info }: Effect.Success<ReturnType<typeof echo>>) =>
  Console.log(`${transport}: echoed ${JSON.stringify(echoed)}, closed with ${info.code} ${JSON.stringify(info.reason)} (clean: ${info.wasClean})`)

export const main = Effect.gen(function*() {
  yield* echo("ws://in-memory/echo").pipe(Effect.provide(EchoServer), Effect.flatMap(report("memory   ")))
  const server = yield* NodeServer.serve({ host: "127.0.0.1", port: 0, path: "/echo" }, echoHandler)
  yield* echo(server.url).pipe(Effect.provide(NodeConnector.layer), Effect.flatMap(report(`${server.url}`)))
}).pipe(Effect.scoped)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Effect.runPromise(main).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
