// One slow receiver, in its own process so its RSS is its own: reads about RATE bytes per second
// for SECONDS with the given library, then prints {"growth": bytes, "read": bytes} and stops
// reading (the connection stays open) until it is killed.
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { once } from "node:events"
import websocketStream from "websocket-stream"
import { WebSocket, createWebSocketStream } from "ws"

const [kind, url, seconds, rate] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])]
const rss = () => process.memoryUsage().rss
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const budget = Math.floor(rate / 10)

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
const read = await readers[kind]()
let peak = rss()
let total = 0
for (let i = 0; i < seconds * 10; i++) {
  total += await read()
  peak = Math.max(peak, rss())
  await sleep(100)
}
console.log(JSON.stringify({ growth: peak - baseline, read: total }))
setInterval(() => {}, 1 << 30) // stay, connection open and unread, until killed
