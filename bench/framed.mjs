// Framed messages end to end over WebSocket: the server sends N pre-encoded frames (NDJSON chat
// messages, or 100 B varint-delimited frames) in 64 KiB messages; each client decodes them with
// its own stack. bytechannel Framed against ws + split2/ndjson and it-ws + it-length-prefixed.
import { ByteChannel, Codec } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as lp from "it-length-prefixed"
import { connect as itWsConnect } from "it-ws/client"
import ndjson from "ndjson"
import { spawn } from "node:child_process"
import { once } from "node:events"
import split2 from "split2"
import { WebSocket, createWebSocketStream } from "ws"
import { compare, emit, quick } from "./lib.mjs"

const COUNT = quick ? 100_000 : 1_000_000
const server = spawn(process.execPath, [new URL("./server.mjs", import.meta.url).pathname, "0"], { stdio: ["ignore", "pipe", "inherit"] })
const [line] = await once(server.stdout.setEncoding("utf8"), "data")
const ports = JSON.parse(line)
process.on("exit", () => server.kill("SIGKILL"))
const url = (kind) => `ws://127.0.0.1:${ports.ws}/frames?kind=${kind}&count=${COUNT}`
const check = (n) => {
  if (n !== COUNT) throw new Error(`decoded ${n} frames, expected ${COUNT}`)
  return n
}
const ChatMessage = Schema.Struct({ from: Schema.String, text: Schema.String, at: Schema.Number })

const viaBytechannel = (kind, codec) => () =>
  Effect.runPromise(Effect.gen(function*() {
    const channel = yield* ByteChannel.connect(url(kind))
    return yield* Stream.runCount(ByteChannel.framed(channel, codec).messages)
  }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))).then(check)

const viaWsStream = (kind, transform) => async () => {
  const ws = new WebSocket(url(kind), { perMessageDeflate: false })
  const stream = createWebSocketStream(ws).pipe(transform())
  let n = 0
  stream.on("data", () => n++)
  await once(stream, "end")
  return check(n)
}

emit(await compare({
  scenario: `framed: ${COUNT.toLocaleString("en")} NDJSON chat messages over WebSocket, decoded`,
  unit: "messages/s",
  baseline: "bytechannel Framed(ndjson(Schema.Struct))",
  runs: quick ? 3 : 5,
  contenders: [
    { name: "bytechannel Framed(ndjson(Schema.Struct))", run: viaBytechannel("ndjson", Codec.ndjson(ChatMessage)) },
    { name: "bytechannel Framed(ndjson(Schema.Unknown))", run: viaBytechannel("ndjson", Codec.ndjson(Schema.Unknown)) },
    { name: "ws createWebSocketStream + ndjson", run: viaWsStream("ndjson", () => ndjson.parse()) },
    { name: "ws createWebSocketStream + split2(JSON.parse)", run: viaWsStream("ndjson", () => split2(JSON.parse)) }
  ],
  notes: ["Schema.Struct validates every message; the peers only parse."]
}))

emit(await compare({
  scenario: `framed: ${COUNT.toLocaleString("en")} varint-delimited 100 B frames over WebSocket, decoded`,
  unit: "frames/s",
  baseline: "bytechannel Framed(varintDelimited)",
  runs: quick ? 3 : 5,
  contenders: [
    { name: "bytechannel Framed(varintDelimited)", run: viaBytechannel("varint", Codec.varintDelimited()) },
    {
      name: "it-ws + it-length-prefixed",
      run: async () => {
        const duplex = itWsConnect(url("varint"))
        await duplex.connected()
        let n = 0
        for await (const frame of lp.decode(duplex.source)) {
          frame.subarray()
          n++
        }
        return check(n)
      }
    }
  ]
}))
server.kill("SIGKILL")
process.exit(0)
