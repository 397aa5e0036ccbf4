// Framed messages end to end over WebSocket: the server sends N pre-encoded frames (NDJSON chat
// messages, or 100 B varint-delimited frames) in 64 KiB messages; each client decodes them with
// its own stack. bytechannel Framed against ws + a hand-written NDJSON loop (the target's peer),
// ws + split2/ndjson, Effect 4's own socket with effect/encoding/Ndjson, the last Effect 3
// commit's bytechannel (when BENCH_EFFECT3_ROOT names a built checkout; in a process of its own),
// and it-ws + it-length-prefixed. CPU of both ends per row: the client's (this process, or the
// Effect 3 client's) and the server's (bench/server.mjs, over its /cpu).
import { ByteChannel, Codec } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Effect from "effect/Effect"
import * as Ndjson from "effect/encoding/Ndjson"
import * as Schema from "effect/Schema"
import * as Socket from "effect/socket/Socket"
import * as Stream from "effect/Stream"
import * as lp from "it-length-prefixed"
import { connect as itWsConnect } from "it-ws/client"
import ndjson from "ndjson"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { StringDecoder } from "node:string_decoder"
import split2 from "split2"
import { WebSocket, createWebSocketStream } from "ws"
import { compare, cpuVs, emit, forkChild, median, quick, times } from "./lib.mjs"

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

/** ws message events into a hand-written NDJSON loop: StringDecoder, indexOf("\n"), JSON.parse. */
const wsHandLoop = async () => {
  const ws = new WebSocket(url("ndjson"), { perMessageDeflate: false })
  const decoder = new StringDecoder("utf8")
  let tail = ""
  let n = 0
  ws.on("message", (data) => {
    const text = tail + decoder.write(data)
    let start = 0
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      JSON.parse(text.slice(start, nl))
      n++
      start = nl + 1
    }
    tail = text.slice(start)
  })
  await once(ws, "close")
  return check(n)
}

/**
 * Effect 4's own socket as its users would decode NDJSON: Socket.makeWebSocket on Node's
 * WebSocket, its frames as a Stream, through effect/encoding/Ndjson's decodeSchema. The server's
 * close (1000) ends the socket's reader with a SocketError: here the end of the stream.
 */
const effectSocketNdjson = () =>
  Effect.runPromise(Effect.gen(function*() {
    const socket = yield* Socket.makeWebSocket(url("ndjson"))
    const pull = yield* Socket.readerBytes(socket)
    return yield* Stream.fromPull(Effect.succeed(pull)).pipe(
      Stream.catch(() => Stream.empty),
      Stream.pipeThroughChannel(Ndjson.decodeSchema(ChatMessage)()),
      Stream.runCount
    )
  }).pipe(Effect.scoped, Effect.provide(NodeSocket.layerWebSocketConstructor))).then(check)

// The last Effect 3 commit's bytechannel client, when bench/run.mjs prepared it.
const effect3Root = process.env.BENCH_EFFECT3_ROOT || undefined
const effect3Client = effect3Root ? await forkChild("./framed-client.mjs", ["--root", effect3Root]) : undefined
if (effect3Client && !effect3Client.ready.effect.startsWith("3.")) throw new Error(`BENCH_EFFECT3_ROOT loads effect ${effect3Client.ready.effect}`)

// CPU of both ends per timed run: client (this process, or the child's own figure) + server.
const serverCpu = () => fetch(`http://127.0.0.1:${ports.ws}/cpu`).then((r) => r.json()).then((r) => r.cpuMs)
const cpu = new Map()
const withCpu = (name, run) => {
  cpu.set(name, [])
  return {
    name,
    run: async ({ warmup }) => {
      const [client, atServer] = [process.cpuUsage(), await serverCpu()]
      const done = await run()
      const used = process.cpuUsage(client)
      const serverMs = (await serverCpu()) - atServer
      const clientMs = typeof done === "number" ? (used.user + used.system) / 1000 : done.cpuMs
      if (!warmup) cpu.get(name).push({ clientMs, serverMs })
      return done
    }
  }
}
const withCpuFigures = (result) => {
  for (const row of result.rows) {
    row.clientCpuMs = median(cpu.get(row.name).map((c) => c.clientMs))
    row.serverCpuMs = median(cpu.get(row.name).map((c) => c.serverMs))
  }
  return result
}

const NDJSON = {
  bc: "bytechannel Framed(ndjson(Schema.Struct))",
  hand: "ws + hand-written NDJSON loop (StringDecoder + indexOf + JSON.parse)",
  effect: "Effect 4 socket + effect/encoding/Ndjson decodeSchema(Schema.Struct)",
  e3: "bytechannel Effect 3 Framed(ndjson(Schema.Struct))"
}
const ndjsonResult = withCpuFigures(await compare({
  scenario: `framed: ${COUNT.toLocaleString("en")} NDJSON chat messages over WebSocket, decoded`,
  unit: "messages/s",
  baseline: NDJSON.bc,
  runs: quick ? 3 : 5,
  contenders: [
    withCpu(NDJSON.bc, viaBytechannel("ndjson", Codec.ndjson(ChatMessage))),
    withCpu("bytechannel Framed(ndjson(Schema.Unknown))", viaBytechannel("ndjson", Codec.ndjson(Schema.Unknown))),
    withCpu(NDJSON.hand, wsHandLoop),
    withCpu("ws createWebSocketStream + ndjson", viaWsStream("ndjson", () => ndjson.parse())),
    withCpu("ws createWebSocketStream + split2(JSON.parse)", viaWsStream("ndjson", () => split2(JSON.parse))),
    withCpu(NDJSON.effect, effectSocketNdjson),
    ...(effect3Client ? [withCpu(NDJSON.e3, () => effect3Client.call({ op: "ndjson", url: url("ndjson"), count: COUNT }))] : [])
  ]
}))
{
  const row = (name) => ndjsonResult.rows.find((r) => r.name === name)
  const bc = row(NDJSON.bc)
  const hand = row(NDJSON.hand)
  const effect = row(NDJSON.effect)
  const e3 = effect3Client && row(NDJSON.e3)
  const ratio = bc.median / hand.median
  const cpuText = (r) => `${r.clientCpuMs.toFixed(0)} + ${r.serverCpuMs.toFixed(0)} ms`
  ndjsonResult.notes = [
    "Schema.Struct validates every message (bytechannel, Effect 4 socket, Effect 3); the ws peers only parse.",
    `bytechannel Framed(ndjson(Schema.Struct)) ÷ ws + hand-written loop: ${times(ratio)} (goal ≥ 0.9× ${ratio >= 0.9 ? "✓" : "✗"}); ${cpuVs(bc, hand, "the hand loop")}.`,
    `Every client reads the same server (bench/server.mjs: a ws server sending the pre-encoded messages in 64 KiB messages, then closing 1000). CPU time (user + system) per run, client + server, median of the runs: ${ndjsonResult.rows.map((r) => `${r.name} ${cpuText(r)}`).join("; ")}.`,
    effect3Client ? `Effect 3: the last Effect 3 commit's bytechannel, in a client process of its own (bench/framed-client.mjs).` : "No Effect 3 row: BENCH_EFFECT3_ROOT is not set (the full `pnpm bench` sets it)."
  ]
  ndjsonResult.summary = [{
    key: "framed",
    row: "framed NDJSON with a Schema.Struct",
    target: "≥ 0.9× ws + a hand-written NDJSON loop",
    now: `${times(ratio)}; ${cpuVs(bc, hand)}`,
    ok: ratio >= 0.9,
    effect3: e3 ? `${times(e3.median / hand.median)}; ${cpuVs(e3, hand)}` : "not run",
    effectSocket: `${times(effect.median / hand.median)}; ${cpuVs(effect, hand)}`
  }]
}
emit(ndjsonResult)
effect3Client?.kill()

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
