// One slow receiver, in its own process so its RSS is its own: reads about RATE bytes per second
// for SECONDS with the given library, then prints {"growth": bytes, "read": bytes, "cpuMs": ms}
// and stops reading (the connection stays open) until it is killed. `--root <dir>`: the checkout
// whose bytechannel (and effect) the bytechannel kind loads (default: this workspace).
import { once } from "node:events"
import websocketStream from "websocket-stream"
import { WebSocket, createWebSocketStream } from "ws"
import { loadBytechannel } from "./lib.mjs"

const [kind, url, seconds, rate] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])]
const rootAt = process.argv.indexOf("--root")
const root = rootAt === -1 ? undefined : process.argv[rootAt + 1]
const rss = () => process.memoryUsage().rss
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const budget = Math.floor(rate / 10)
// The kind's library is loaded before the baseline below (its code is not what is measured).
const bytechannel = kind === "bytechannel" ? await loadBytechannel(root) : undefined
const effectSocket = kind === "Effect 4 socket"
  ? await Promise.all([import("effect/Effect"), import("effect/socket/Socket"), import("@effect/platform-node/NodeSocket")])
  : undefined

// Each reader returns a function that reads up to `budget` bytes and answers how many it read.
const fromNodeStream = async (stream) => {
  stream.pause()
  return async () => {
    let left = budget
    while (left > 0) {
      const chunk = stream.read(Math.min(left, stream.readableLength || left))
      if (chunk === null) break
      left -= chunk.length
    }
    return budget - left
  }
}

const readers = {
  bytechannel: async () => {
    const { ByteChannel, Effect, NodeConnector, Option } = await bytechannel
    const scope = { channel: undefined }
    await new Promise((ready) => {
      Effect.runFork(Effect.gen(function*() {
        scope.channel = yield* ByteChannel.connect(url)
        ready()
        return yield* Effect.never
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer)))
    })
    return async () => {
      let left = budget
      while (left > 0) {
        const next = await Effect.runPromise(scope.channel.readChunk(left))
        if (Option.isNone(next)) break
        left -= next.value.length
      }
      return budget - left
    }
  },
  // Effect 4's own socket on Node's WebSocket: its frames' pull, read up to the budget (the rest of
  // a frame kept for the next read). Node's WebSocket has no read backpressure.
  "Effect 4 socket": async () => {
    const [Effect, Socket, NodeSocket] = await effectSocket
    const pull = await new Promise((ready, failed) => {
      Effect.runFork(Effect.gen(function*() {
        const socket = yield* Socket.makeWebSocket(url)
        ready(yield* Socket.readerBytes(socket))
        return yield* Effect.never
      }).pipe(Effect.scoped, Effect.provide(NodeSocket.layerWebSocketConstructor), Effect.tapCause((cause) => Effect.sync(() => failed(cause)))))
    })
    let held = []
    return async () => {
      let left = budget
      while (left > 0) {
        if (held.length === 0) held = [...(await Effect.runPromise(pull))]
        const frame = held.shift()
        if (frame.length > left) held.unshift(frame.subarray(left))
        left -= Math.min(left, frame.length)
      }
      return budget - left
    }
  },
  "ws createWebSocketStream": async () => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    await once(ws, "open")
    return fromNodeStream(createWebSocketStream(ws))
  },
  "websocket-stream": async () => {
    const stream = websocketStream(url, { perMessageDeflate: false })
    await once(stream, "connect")
    return fromNodeStream(stream)
  },
  "raw ws (message events)": async () => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const queue = []
    ws.on("message", (data) => queue.push(data))
    await once(ws, "open")
    return async () => {
      let left = budget
      while (left > 0 && queue.length > 0) left -= queue.shift().length
      return budget - left
    }
  }
}

// The baseline is taken before connecting: what the connection buffers is the point.
globalThis.gc?.()
const baseline = rss()
const cpu = process.cpuUsage()
const read = await readers[kind]()
let peak = rss()
let total = 0
for (let i = 0; i < seconds * 10; i++) {
  total += await read()
  peak = Math.max(peak, rss())
  await sleep(100)
}
const used = process.cpuUsage(cpu)
console.log(JSON.stringify({ growth: peak - baseline, read: total, cpuMs: (used.user + used.system) / 1000 }))
setInterval(() => {}, 1 << 30) // stay, connection open and unread, until killed
