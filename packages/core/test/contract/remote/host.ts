/**
 * The peer host: plain `ws` peers (an implementation independent of ours) in a Node process, for
 * subjects that run elsewhere (a browser page, Bun, Deno). One HTTP + `ws` server on 127.0.0.1
 * with an endpoint per behaviour, an HTTP stats endpoint, a TCP port that never answers, and a
 * closed port. The browser's globalSetup runs it in its own Node process; Bun and Deno projects
 * run it in a Node 22 child (`nodeHost.ts`, started by `globalSetup.ts`).
 *
 * Contract peers are driven over a control connection (`/contract-control?peer=ID`): what the
 * peer receives is forwarded there (binary as binary, text as `{ ev: "text" }`, the close as
 * `{ ev: "close" }`); binary frames from the control are sent by the peer, JSON frames are
 * commands, acknowledged with `{ ev: "ack" }` when they ask for it. The peer is either
 * - server-side: the subject (a client) connects to `/contract-peer?peer=ID`, or
 * - client-side: with `&connect=URL` (and `&protocols=a,b`), the host connects a plain `ws`
 *   client to URL, the subject being the server's end; a failed connection is `{ ev: "error" }`.
 *
 * `ws` is handed in (this folder is core's, which does not depend on it); only what is used is typed.
 */
import * as Http from "node:http"
import * as Net from "node:net"

/** What the host uses of a `ws` WebSocket. */
export interface WsSocket {
  readonly readyState: number
  readonly bufferedAmount: number
  send(data: string | Uint8Array, options?: { readonly binary?: boolean }): void
  close(code?: number, reason?: string): void
  terminate(): void
  pause(): void
  resume(): void
  on(event: string, listener: (...args: Array<any>) => void): unknown
  once(event: string, listener: (...args: Array<any>) => void): unknown
}

/** What the host uses of the `ws` module. */
export interface WsModule {
  readonly WebSocket: new(url: string, protocols?: Array<string>, options?: { readonly perMessageDeflate?: boolean; readonly maxPayload?: number }) => WsSocket
  readonly WebSocketServer: new(options: { readonly server: Http.Server; readonly perMessageDeflate: boolean; readonly maxPayload: number }) => {
    readonly clients: Set<WsSocket>
    on(event: "connection", listener: (ws: WsSocket, request: Http.IncomingMessage) => void): unknown
    close(callback: () => void): void
  }
}

/** Where the host's servers are, as the tests get them. */
export interface HostServers {
  /** `ws://127.0.0.1:PORT`: the endpoints and contract peers. */
  readonly ws: string
  /** `http://127.0.0.1:PORT`: `/?id=ID` answers a connection's stats (bufferedAmount, bytes received, close). */
  readonly http: string
  /** A TCP port that accepts and never answers (open timeouts). */
  readonly silent: string
  /** A port nobody listens on. */
  readonly closed: string
}

const OPEN = 1
const MAX_PAYLOAD = 64 * 1024 * 1024

/** One contract peer: `data` is its end of the subject's connection, driven by `control`. */
const servePeer = (data: WsSocket, control: WsSocket) => {
  const tell = (event: object) => control.readyState === OPEN && control.send(JSON.stringify(event))
  data.on("message", (message: Buffer, isBinary: boolean) => {
    if (control.readyState !== OPEN) return
    if (isBinary) control.send(message, { binary: true })
    else tell({ ev: "text", data: message.toString("utf8") })
  })
  data.on("close", (code: number, reason: Buffer) => tell({ ev: "close", code, reason: reason.toString("utf8") }))
  data.on("error", () => {}) // reported by "close" (1006)
  control.on("close", () => data.terminate())
  control.on("message", (message: Buffer, isBinary: boolean) => {
    if (isBinary) return data.readyState === OPEN && data.send(message, { binary: true })
    const command = JSON.parse(message.toString("utf8"))
    switch (command.op) {
      case "send":
        if (data.readyState === OPEN) data.send(command.text as string)
        break
      case "flood":
        // The bytes of the suite's floodMessage(i, size).
        for (let i = 0; i < command.count && data.readyState === OPEN; i++) {
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

/** The client-side peer: a plain `ws` client to `url`, served once it is open. */
const connectPeer = (ws: WsModule, control: WsSocket, url: string, protocols: Array<string>) => {
  let client: WsSocket
  try {
    client = new ws.WebSocket(url, protocols, { perMessageDeflate: false, maxPayload: MAX_PAYLOAD })
  } catch (error) {
    control.send(JSON.stringify({ ev: "error", message: String(error) }))
    return control.close()
  }
  let opened = false
  client.once("open", () => {
    opened = true
    servePeer(client, control)
  })
  client.on("error", (error: Error) => {
    if (!opened && control.readyState === OPEN) control.send(JSON.stringify({ ev: "error", message: error.message }))
  })
  control.on("close", () => client.terminate())
}

const listen = (server: Net.Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as Net.AddressInfo).port)))

/** Starts the host; `close` stops everything it started. */
export const startHost = async (ws: WsModule): Promise<{ readonly servers: HostServers; readonly close: () => Promise<void> }> => {
  const stats = new Map<string, { ws: WsSocket; received: number; close: { code: number; reason: string } | undefined }>()
  const http = Http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x")
    const entry = stats.get(url.searchParams.get("id") ?? "")
    response.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" })
    response.end(JSON.stringify(entry ? { bufferedAmount: entry.ws.bufferedAmount, received: entry.received, close: entry.close ?? null } : null))
  })
  const wss = new ws.WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: MAX_PAYLOAD })
  const controls = new Map<string, WsSocket>()
  wss.on("connection", (socket, request) => {
    const url = new URL(request.url ?? "/", "http://x")
    const id = url.searchParams.get("id")
    const entry = { ws: socket, received: 0, close: undefined as { code: number; reason: string } | undefined }
    if (id) stats.set(id, entry)
    socket.on("message", (data: Buffer) => (entry.received += data.length))
    socket.on("close", (code: number, reason: Buffer) => (entry.close = { code, reason: reason.toString() }))
    socket.on("error", () => {})
    switch (url.pathname) {
      case "/echo":
        socket.on("message", (data: Buffer, isBinary: boolean) => socket.send(data, { binary: isBinary }))
        break
      case "/close":
        socket.close(Number(url.searchParams.get("code")), url.searchParams.get("reason") ?? "")
        break
      case "/text":
        socket.send(Buffer.from([1, 2, 3]))
        socket.send("héllo € 𝄞")
        socket.send(Buffer.from([4, 5]))
        break
      case "/flood": {
        const chunk = Buffer.alloc(64 * 1024, 9)
        const count = Number(url.searchParams.get("mb")) * 16
        for (let i = 0; i < count; i++) socket.send(chunk)
        break
      }
      case "/pause":
      case "/never-close":
        socket.pause()
        break
      case "/terminate":
        socket.once("message", () => socket.terminate())
        break
      case "/contract-control": {
        const peer = url.searchParams.get("peer") ?? ""
        const target = url.searchParams.get("connect")
        if (target !== null) {
          const protocols = (url.searchParams.get("protocols") ?? "").split(",").filter((p) => p !== "")
          connectPeer(ws, socket, target, protocols)
          break
        }
        controls.set(peer, socket)
        socket.on("close", () => controls.delete(peer))
        break
      }
      case "/contract-peer": {
        const control = controls.get(url.searchParams.get("peer") ?? "")
        if (control === undefined) socket.close(1011, "no control connection")
        else servePeer(socket, control)
        break
      }
    }
  })
  const httpPort = await listen(http)
  const sockets = new Set<Net.Socket>()
  const silent = Net.createServer((socket) => {
    sockets.add(socket)
    socket.on("error", () => {})
  })
  const silentPort = await listen(silent)
  const probe = Net.createServer()
  const closedPort = await listen(probe)
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return {
    servers: {
      ws: `ws://127.0.0.1:${httpPort}`,
      http: `http://127.0.0.1:${httpPort}`,
      silent: `ws://127.0.0.1:${silentPort}`,
      closed: `ws://127.0.0.1:${closedPort}`
    },
    close: async () => {
      for (const client of wss.clients) client.terminate()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  }
}
