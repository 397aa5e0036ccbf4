/**
 * The smallest bytechannel program: serve an echo, connect, send, read the echo, close.
 *
 * `program` depends only on the portable services, `Server` and `Connector`; which runtime and
 * transport carry it is decided by the layers it is given, at the edge. `main` runs it on Node
 * (`NodeServer.layerServer`, `NodeConnector.layer`); `examples/runtimes/echo-bun.ts` and
 * `echo-deno.ts` run the same `program` on Bun and Deno, swapping only the layers. The first
 * echo goes through memory (`TestConnector`), with no network at all.
 *
 * Run: `pnpm echo`
 */
import { ByteChannel, Server, TestConnector } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
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
export const echoHandler = (channel: ByteChannel.ByteChannel) => Stream.run(channel.read, channel.write)

// In memory: TestConnector runs the handler as the server side of every connect.
export const EchoServer = TestConnector.layer(echoHandler)

const report = (transport: string) => ({ echoed, info }: Effect.Success<ReturnType<typeof echo>>) =>
  Console.log(`${transport}: echoed ${JSON.stringify(echoed)}, closed with ${info.code} ${JSON.stringify(info.reason)} (clean: ${info.wasClean})`)

// Any runtime: serves on an OS-chosen port (or `port`) and echoes once through it. The server
// stays up until the scope closes.
export const program = (port = 0) =>
  Effect.gen(function*() {
    yield* echo("ws://in-memory/echo").pipe(Effect.provide(EchoServer), Effect.flatMap(report("memory   ")))
    const server = yield* Server.serve({ host: "127.0.0.1", port, path: "/echo" }, echoHandler)
    yield* echo(server.url).pipe(Effect.flatMap(report(`${server.url}`)))
    return server
  })

// The edge: Node's layers. Bun: BunServer.layerServer; Deno: DenoServer.layerServer; both with
// WebSocketConnector.layer (examples/runtimes).
export const NodeRuntime = Layer.mergeAll(NodeServer.layerServer, NodeConnector.layer)

export const main = program().pipe(Effect.scoped, Effect.provide(NodeRuntime))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Effect.runPromise(main).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
