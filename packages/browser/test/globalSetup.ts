/**
 * Runs in Node before the browser tests: a plain `ws` server (an implementation independent of
 * ours) on 127.0.0.1 with one endpoint per behaviour, an HTTP stats endpoint, a TCP port that
 * never answers, and a closed port. Handed to the tests with `provide`.
 */
import * as Http from "node:http"
import * as Net from "node:net"
import type { TestProject } from "vitest/node"
import { WebSocketServer, type WebSocket } from "ws"

declare module "vitest" {
  export interface ProvidedContext {
    servers: { ws: string; http: string; silent: string; closed: string }
  }
}

/**
 * One contract peer: what arrives on `data` is forwarded to `control` (binary as binary, text as
 * `{ ev: "text" }`, the close as `{ ev: "close" }`); binary frames from `control` are sent on
 * `data`, JSON frames are commands, acknowledged with `{ ev: "ack" }` when they ask for it.
 */
const servePeer = (data: WebSocket, control: WebSocket | undefined) => {
  if (control === undefined) return data.close(1011, "no control connection")
  const tell = (event: object) => control.readyState === control.OPEN && control.send(JSON.stringify(event))
  data.on("message", (message: Buffer, isBinary) => {
    if (control.readyState !== control.OPEN) return
    if (isBinary) control.send(message, { binary: true })
    else tell({ ev: "text", data: message.toString("utf8") })
  })
  data.on("close", (code, reason) => tell({ ev: "close", code, reason: reason.toString("utf8") }))
  control.on("close", () => data.terminate())
  control.on("message", (message: Buffer, isBinary) => {
    if (isBinary) return data.readyState === data.OPEN && data.send(message, { binary: true })
    const command = JSON.parse(message.toString("utf8"))
    switch (command.op) {
      case "send":
        if (data.readyState === data.OPEN) data.send(command.text as string)
        break
      case "flood":
        // The bytes of the suite's floodMessage(i, size).
        for (let i = 0; i < command.count && data.readyState === data.OPEN; i++) {
          const bytes = Buffer.alloc(command.size)
          for (let j = 0; j < command.size; j++) bytes[j] = (i * 31 + j) & 0xff
          data.send(bytes, { binary: true })
        }
        break
      case "held":
        tell({ ev: "held", bytes: data.bufferedAmount })
        break
      case "pause":
      case "hang":
        data.pause()
        break
      case "resume":
        data.resume()
        break
      case "close":
        data.close(command.code, command.reason)
        break
      case "drop":
        data.terminate()
        break
    }
    if (command.ack) tell({ ev: "ack" })
  })
  tell({ ev: "open" })
}

const listen = (server: Net.Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as Net.AddressInfo).port)))

export default async function setup(project: TestProject) {
  const stats = new Map<string, { ws: WebSocket; received: number; close: { code: number; reason: string } | undefined }>()
  const http = Http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x")
    const entry = stats.get(url.searchParams.get("id") ?? "")
    response.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" })
    response.end(JSON.stringify(entry ? { bufferedAmount: entry.ws.bufferedAmount, received: entry.received, close: entry.close ?? null } : null))
  })
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })
  // The transport contract's peer (test/contract/remotePeer.ts): a page drives a plain ws end of
  // its subject's connection (/contract-peer) through a control connection (/contract-control).
  const contractControls = new Map<string, WebSocket>()
  wss.on("connection", (ws, request) => {
    const url = new URL(request.url ?? "/", "http://x")
    const id = url.searchParams.get("id")
    const entry = { ws, received: 0, close: undefined as { code: number; reason: string } | undefined }
    if (id) stats.set(id, entry)
    ws.on("message", (data: Buffer) => (entry.received += data.length))
    ws.on("close", (code, reason) => (entry.close = { code, reason: reason.toString() }))
    switch (url.pathname) {
      case "/echo":
        ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }))
        break
      case "/close":
        ws.close(Number(url.searchParams.get("code")), url.searchParams.get("reason") ?? "")
        break
      case "/text":
        ws.send(Buffer.from([1, 2, 3]))
        ws.send("héllo € 𝄞")
        ws.send(Buffer.from([4, 5]))
        break
      case "/flood": {
        const chunk = Buffer.alloc(64 * 1024, 9)
        const count = Number(url.searchParams.get("mb")) * 16
        for (let i = 0; i < count; i++) ws.send(chunk)
        break
      }
      case "/pause":
      case "/never-close":
        ws.pause()
        break
      case "/terminate":
        ws.once("message", () => ws.terminate())
        break
      case "/contract-control": {
        const peer = url.searchParams.get("peer") ?? ""
        contractControls.set(peer, ws)
        ws.on("close", () => contractControls.delete(peer))
        break
      }
      case "/contract-peer":
        servePeer(ws, contractControls.get(url.searchParams.get("peer") ?? ""))
        break
    }
  })
  const httpPort = await listen(http)
  const sockets = new Set<Net.Socket>()
  const silent = Net.createServer((socket) => sockets.add(socket))
  const silentPort = await listen(silent)
  const probe = Net.createServer()
  const closedPort = await listen(probe)
  await new Promise<void>((resolve) => probe.close(() => resolve()))

  project.provide("servers", {
    ws: `ws://127.0.0.1:${httpPort}`,
    http: `http://127.0.0.1:${httpPort}`,
    silent: `ws://127.0.0.1:${silentPort}`,
    closed: `ws://127.0.0.1:${closedPort}`
  })

  return async () => {
    for (const client of wss.clients) client.terminate()
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    await new Promise<void>((resolve) => http.close(() => resolve()))
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  }
}
