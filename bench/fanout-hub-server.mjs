// Fan-out server through the Hub (its own process): each connection subscribes to one topic and
// gets every message any connection publishes there. MODE "local": the in-process hub (one
// process); MODE "redis": RedisHub on REDIS_URL (one of several processes). Prints its port, then
// "redis" once its hub reached Redis.
import { Hub } from "@bytechannel/core"
import { NodeServer } from "@bytechannel/node"
import { RedisHub } from "@bytechannel/redis"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

const [mode, redisUrl] = [process.argv[2], process.argv[3]]
const READY = new Uint8Array([0])
const layer = mode === "redis"
  ? RedisHub.layer({ url: redisUrl, onEvent: (event) => Effect.sync(() => event._tag === "Connected" && console.log(JSON.stringify({ redis: true }))) })
  : Hub.layer

Effect.runFork(Effect.gen(function*() {
  const hub = yield* Hub.Hub
  const server = yield* NodeServer.serve({}, (channel) =>
    Effect.gen(function*() {
      const feed = yield* hub.subscribe("fanout", { bufferSize: 1024 })
      yield* channel.send(READY) // subscribed: everything published from now on reaches this client
      yield* Effect.forkScoped(Stream.run(feed, channel.write))
      yield* Stream.runForEach(channel.read, (bytes) => hub.publish("fanout", bytes))
    }))
  console.log(JSON.stringify({ port: server.port }))
  return yield* Effect.never
}).pipe(Effect.scoped, Effect.provide(layer)))
process.on("SIGTERM", () => process.exit(0))
