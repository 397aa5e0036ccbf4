/**
 * A hostile WebSocket peer on plain `node:net`: a hand-made handshake and hand-made frames, so a
 * test can send what no well-behaved library would (bad lengths, RSV bits, masks, codes, floods,
 * dribbled or cut handshakes), and read back exactly what our side put on the wire.
 */
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import * as Net from "node:net"

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

export const acceptKey = (key: string) => createHash("sha1").update(key + GUID).digest("base64")

export interface FrameSpec {
  readonly opcode: number
  readonly payload?: Uint8Array | string | undefined
  readonly fin?: boolean | undefined
  /** RSV1..3 as bits 0b100, 0b010, 0b001. */
  readonly rsv?: number | undefined
  /** Mask the payload (clients must, servers must not). */
  readonly mask?: boolean | undefined
  /** Announce this length instead of the payload's (for oversized or lying headers). */
  readonly announce?: bigint | number | undefined
}

/** Encodes one frame exactly as specified, valid or not. */
export const frame = (spec: FrameSpec): Buffer => {
  const payload = typeof spec.payload === "string" ? Buffer.from(spec.payload, "utf8") : Buffer.from(spec.payload ?? [])
  const length = BigInt(spec.announce ?? payload.length)
  const head: Array<number> = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode]
  const maskBit = spec.mask ? 0x80 : 0
  if (length < 126n) head.push(maskBit | Number(length))
  else if (length < 65536n) head.push(maskBit | 126, Number(length >> 8n), Number(length & 0xffn))
  else {
    head.push(maskBit | 127)
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn))
  }
  if (!spec.mask) return Buffer.concat([Buffer.from(head), payload])
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78])
  const masked = Buffer.from(payload)
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i & 3]!
  return Buffer.concat([Buffer.from(head), key, masked])
}

/** A close frame's payload: the code (if any) and a reason given as raw bytes or text. */
export const closePayload = (code?: number, reason: Uint8Array | string = "") => {
  if (code === undefined) return Buffer.alloc(0)
  const head = Buffer.alloc(2)
  head.writeUInt16BE(code)
  return Buffer.concat([head, typeof reason === "string" ? Buffer.from(reason, "utf8") : Buffer.from(reason)])
}

export interface ParsedFrame {
  readonly fin: boolean
  readonly opcode: number
  readonly masked: boolean
  readonly payload: Buffer
}

/**
 * Reads frames off a socket: `frames` holds every whole frame seen; `closeCode()` is the code
 * of the first close frame (1005 for an empty one), `ended` resolves when the socket closes.
 */
export const frameReader = (socket: Net.Socket, initial: Buffer = Buffer.alloc(0)) => {
  const frames: Array<ParsedFrame> = []
  let pending = initial
  let bytes = 0
  const waiters: Array<() => void> = []
  const wake = () => waiters.splice(0).forEach((w) => w())
  const parse = () => {
    while (pending.length >= 2) {
      const b0 = pending[0]!
      const b1 = pending[1]!
      let length = b1 & 0x7f
      let offset = 2
      if (length === 126) {
        if (pending.length < 4) return
        length = pending.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (pending.length < 10) return
        length = Number(pending.readBigUInt64BE(2))
        offset = 10
      }
      const masked = (b1 & 0x80) !== 0
      const keyOffset = offset
      if (masked) offset += 4
      if (pending.length < offset + length) return
      const payload = Buffer.from(pending.subarray(offset, offset + length))
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= pending[keyOffset + (i & 3)]!
      frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, masked, payload })
      pending = pending.subarray(offset + length)
    }
  }
  const onData = (chunk: Buffer) => {
    bytes += chunk.length
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    parse()
    wake()
  }
  parse()
  socket.on("data", onData)
  let isEnded = false
  const ended = new Promise<void>((resolve) =>
    socket.once("close", () => {
      isEnded = true
      wake()
      resolve()
    })
  )
  const closeFrame = () => frames.find((f) => f.opcode === 0x8)
  return {
    frames,
    bytesRead: () => bytes,
    ended,
    isEnded: () => isEnded,
    closeFrame,
    /** The first close frame's code and reason, once it came (or the socket ended without one). */
    awaitClose: Effect.callback<{ readonly code: number; readonly reason: string } | undefined>((resume) => {
      const check = () => {
        const close = closeFrame()
        if (close !== undefined) {
          const code = close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005
          resume(Effect.succeed({ code, reason: close.payload.subarray(2).toString("utf8") }))
        } else if (isEnded) resume(Effect.succeed(undefined))
        else waiters.push(check)
      }
      check()
    }),
    /** Waits until `predicate` holds over the frames seen, or the socket ends. */
    until: (predicate: (frames: ReadonlyArray<ParsedFrame>) => boolean) =>
      Effect.callback<boolean>((resume) => {
        const check = () => {
          if (predicate(frames)) resume(Effect.succeed(true))
          else if (isEnded) resume(Effect.succeed(false))
          else waiters.push(check)
        }
        check()
      })
  }
}

/** Reads an HTTP head (up to the blank line) from a socket; the bytes after it are returned too. */
export const readHead = (socket: Net.Socket) =>
  Effect.callback<{ readonly head: string; readonly rest: Buffer } | undefined>((resume) => {
    let buffered = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf("\r\n\r\n")
      if (end === -1) return
      cleanup()
      resume(Effect.succeed({ head: buffered.subarray(0, end).toString("latin1"), rest: buffered.subarray(end + 4) }))
    }
    const onClose = () => {
      cleanup()
      resume(Effect.succeed(undefined))
    }
    const cleanup = () => {
      socket.off("data", onData)
      socket.off("close", onClose)
    }
    socket.on("data", onData)
    socket.once("close", onClose)
    return Effect.sync(cleanup)
  })

const headerOf = (head: string, name: string) =>
  head.split("\r\n").find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim()

/** The 101 answer to a request head. */
export const switchingProtocols = (requestHead: string, extra = "") =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Accept: ${acceptKey(headerOf(requestHead, "sec-websocket-key") ?? "")}\r\n${extra}\r\n`

/**
 * A raw TCP server on 127.0.0.1 whose connections `onConnection` drives; every socket is
 * destroyed and the server closed with the scope.
 */
export const rawTcpServer = (onConnection: (socket: Net.Socket) => void) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Net.Server; readonly port: number; readonly sockets: Set<Net.Socket> }>((resume) => {
      const sockets = new Set<Net.Socket>()
      // Half-open allowed: a peer that gets our FIN keeps its side open until it decides (or the test ends).
      const server = Net.createServer({ allowHalfOpen: true }, (socket) => {
        sockets.add(socket)
        socket.on("error", () => {})
        socket.once("close", () => sockets.delete(socket))
        onConnection(socket)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, port: (server.address() as Net.AddressInfo).port, sockets })))
    }),
    ({ server, sockets }) =>
      Effect.callback<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )

/** A raw TCP connection to 127.0.0.1:port, destroyed with the scope. */
export const rawConnect = (port: number) =>
  Effect.acquireRelease(
    Effect.callback<Net.Socket, Error>((resume) => {
      const socket = Net.connect({ host: "127.0.0.1", port })
      socket.on("error", () => {})
      socket.once("connect", () => resume(Effect.succeed(socket)))
      socket.once("close", () => resume(Effect.fail(new Error("connection refused or closed"))))
    }),
    (socket) => Effect.sync(() => socket.destroy())
  )

/** An upgrade request head for `target` (a key that yields a known accept). */
export const upgradeRequest = (target: string, headers: Record<string, string> = {}) =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
  Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n"

/**
 * A raw client connected and upgraded to a server: `frames` reads what the server sends,
 * `send` writes raw bytes. Fails if the server does not answer 101.
 */
export const rawUpgrade = (port: number, target = "/", headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const socket = yield* rawConnect(port)
    socket.write(upgradeRequest(target, headers))
    const answer = yield* readHead(socket)
    if (answer === undefined || !answer.head.startsWith("HTTP/1.1 101")) {
      return yield* Effect.fail(new Error(`no 101: ${answer?.head.split("\r\n")[0] ?? "closed"}`))
    }
    const reader = frameReader(socket, answer.rest)
    return { socket, reader, send: (bytes: Uint8Array) => socket.write(bytes) }
  })

/** Sends a request head and returns the status line the server answers with (undefined: closed without one). */
export const statusOf = (port: number, request: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      const socket = yield* rawConnect(port)
      socket.write(request)
      const answer = yield* readHead(socket).pipe(
        Effect.timeoutOrElse({
          duration: "5 seconds",
          orElse: () => Effect.fail(new Error(`no answer to ${request.split("\r\n")[0]}`))
        })
      )
      return answer?.head.split("\r\n")[0]
    })
  )
