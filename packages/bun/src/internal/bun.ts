/**
 * The part of Bun's API the server uses, typed here: the sources need no `bun-types` (whose
 * globals clash with the DOM's and Node's in a program that has all three), and
 * test/bunTypes.ts checks every declaration below against Bun's own (`@types/bun`).
 *
 * @internal
 */

/** `ServerWebSocket<T>` with `binaryType = "uint8array"`. */
export interface ServerSocket<T> {
  readonly data: T
  readonly readyState: number
  binaryType?: "nodebuffer" | "arraybuffer" | "uint8array" | "blob"
  /** Bytes sent; -1 queued under backpressure; 0 dropped (or empty). */
  sendText(data: string): number
  sendBinary(data: Uint8Array): number
  getBufferedAmount(): number
  close(code?: number, reason?: string): void
  terminate(): void
  pause(): void
  resume(): void
  ping(data?: string | Uint8Array): number
}

/** `WebSocketHandler<T>`: the options and callbacks the server sets. */
export interface SocketHandler<T> {
  readonly maxPayloadLength: number
  readonly backpressureLimit: number
  readonly closeOnBackpressureLimit: boolean
  readonly idleTimeout: number
  readonly sendPings: boolean
  readonly perMessageDeflate: boolean
  readonly open: (ws: ServerSocket<T>) => void
  readonly message: (ws: ServerSocket<T>, message: string | Uint8Array) => void
  readonly drain: (ws: ServerSocket<T>) => void
  readonly ping: (ws: ServerSocket<T>, data: Uint8Array) => void
  readonly pong: (ws: ServerSocket<T>, data: Uint8Array) => void
  readonly close: (ws: ServerSocket<T>, code: number, reason: string) => void
}

/** `Server<T>`. */
export interface HttpServer<T> {
  readonly hostname: string | undefined
  readonly port: number | undefined
  stop(closeActiveConnections?: boolean): Promise<void>
  upgrade(request: Request, options: { readonly data: T; readonly headers?: Record<string, string> }): boolean
  requestIP(request: Request): { readonly address: string } | null
}

/** `Bun.serve`'s options, as the server passes them. */
export interface ServeOptions<T> {
  readonly hostname: string
  readonly port: number
  readonly development: boolean
  readonly reusePort: boolean
  readonly fetch: (request: Request, server: HttpServer<T>) => Response | undefined
  readonly error: (error: Error) => Response
  readonly websocket: SocketHandler<T>
}

/** `Bun.serve`; throws (`code` "EADDRINUSE" for a busy port) when it cannot listen. */
export const serve = <T>(options: ServeOptions<T>): HttpServer<T> =>
  (globalThis as unknown as { readonly Bun: { readonly serve: <A>(options: ServeOptions<A>) => HttpServer<A> } }).Bun.serve(options)
