/**
 * The chat page: BrowserConnector (WebSocketStream in Chromium) with Reconnect.framed and an
 * application-level heartbeat, since browsers have no ping API. Shows which server process it is
 * on and how many people are online (on every process).
 */
import { BrowserConnector } from "@bytechannel/browser"
import { Codec, Reconnect } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { ClientMessage, maxLineLength, ServerMessage } from "../protocol.js"

const name = new URLSearchParams(location.search).get("name") ?? `guest${Math.floor(Math.random() * 1000)}`
const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
element("me").textContent = name
const status = element<HTMLSpanElement>("status")
const log = element<HTMLUListElement>("log")
const where = element<HTMLSpanElement>("where")
let server = ""
const showWhere = (online: number) => (where.textContent = `· server ${server} · ${online} online`)

const codec: Codec.Codec<ClientMessage | ServerMessage> = {
  name: "chat",
  decoder: () => Codec.ndjson(ServerMessage, { maxLength: maxLineLength }).decoder(),
  encode: (value) => Codec.ndjson(ClientMessage, { maxLength: maxLineLength }).encode(value as ClientMessage)
}

const setStatus = (text: string, connected: boolean) => {
  status.textContent = text
  status.className = connected ? "connected" : ""
}

const program = Effect.gen(function*() {
  const chat = yield* Reconnect.framed(`ws://${location.host}/chat`, codec, {
    schedule: Schedule.min([Schedule.exponential("200 millis"), Schedule.spaced("5 seconds")]),
    heartbeat: { interval: "10 seconds", ping: { _tag: "Ping" }, isHeartbeat: (m) => m._tag === "Pong" || m._tag === "Ping" },
    onEvent: (event) =>
      Effect.sync(() => {
        if (event._tag === "Connected") setStatus("connected", true)
        if (event._tag === "Disconnected") setStatus(`disconnected (${event.info.code}), reconnecting…`, false)
      })
  })
  element<HTMLFormElement>("say").addEventListener("submit", (event) => {
    event.preventDefault()
    const input = element<HTMLInputElement>("text")
    const text = input.value.trim()
    input.value = ""
    if (text) Effect.runFork(Effect.ignore(chat.send({ _tag: "Say", from: name, text })))
  })
  yield* chat.messages.pipe(
    Stream.runForEach((message) =>
      Effect.sync(() => {
        if (message._tag === "Welcome") {
          server = message.server
          showWhere(message.online)
        }
        if (message._tag === "Online") showWhere(message.count)
        if (message._tag !== "Said") return
        const item = document.createElement("li")
        const who = document.createElement("b")
        who.textContent = `${message.from}:`
        item.append(who, message.text)
        log.append(item)
      })
    )
  )
}).pipe(Effect.scoped, Effect.provide(BrowserConnector.layer))

Effect.runFork(program)
