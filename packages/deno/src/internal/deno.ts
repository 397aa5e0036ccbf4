/**
 * The few Deno APIs this package uses (Deno 2.9), typed here rather than with a global `Deno`
 * namespace: the package compiles under Node's TypeScript setup (no `@types/deno`, whose 2.7
 * declarations also redeclare the DOM globals) and reads `Deno` from `globalThis` at run time.
 *
 * @internal
 */

/** @internal */
export interface NetAddr {
  readonly transport: "tcp" | "udp"
  readonly hostname: string
  readonly port: number
}

/** @internal */
export interface ServeHandlerInfo {
  readonly remoteAddr: NetAddr
}

/** @internal */
export interface HttpServer {
  readonly addr: NetAddr
  /** Settles once the server has closed (after `signal` aborted). */
  readonly finished: Promise<void>
}

/** @internal */
export interface ServeTcpOptions {
  readonly hostname: string
  readonly port: number
  readonly signal: AbortSignal
  readonly onListen: (addr: NetAddr) => void
  readonly onError: (error: unknown) => Response | Promise<Response>
  readonly handler: (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>
}

/** @internal */
export interface UpgradeWebSocketOptions {
  /** The subprotocol answered (one the client offered). */
  readonly protocol?: string
  /**
   * Seconds: with no frame from the peer for half of it, Deno sends a ping; with none for the
   * other half, it closes with 1001 ("No response from ping frame.") and reports an error. 0: off.
   */
  readonly idleTimeout?: number
}

/** @internal */
export interface DenoApi {
  readonly serve: (options: ServeTcpOptions) => HttpServer
  readonly upgradeWebSocket: (request: Request, options?: UpgradeWebSocketOptions) => {
    readonly socket: WebSocket
    readonly response: Response
  }
  readonly internal?: symbol
}

/** The running Deno, or `undefined` on another runtime. @internal */
export const denoApi = (): DenoApi | undefined => (globalThis as { readonly Deno?: DenoApi }).Deno

/** What Deno's WebSocket reports when the peer did not answer its idle ping. @internal */
export const IDLE_TIMEOUT_MESSAGE = "No response from ping frame."

/**
 * Drops a server WebSocket's connection at once. A standard WebSocket cannot (`close()` while
 * closing does nothing, and a peer that never answers the close frame would hold the connection
 * for ever), so this closes Deno's resource behind it, as Deno itself does when its idle timeout
 * fires: the one use of a Deno internal in this package (`Deno[Deno.internal].core.tryClose` and
 * the socket's `[[rid]]` slot). Where either is missing it falls back to `close()`, and the
 * engine still reports the connection closed (1006). @internal
 */
export const drop = (ws: WebSocket): void => {
  const deno = denoApi()
  const core = deno?.internal === undefined
    ? undefined
    : ((deno as unknown as Record<symbol, { readonly core?: { readonly tryClose?: (rid: number) => void } }>)[deno.internal])?.core
  const slot = Object.getOwnPropertySymbols(ws).find((symbol) => symbol.description === "[[rid]]")
  const rid = slot === undefined ? undefined : (ws as unknown as Record<symbol, unknown>)[slot]
  if (typeof rid === "number" && typeof core?.tryClose === "function") {
    try {
      core.tryClose(rid)
      return
    } catch {
      // fall back below
    }
  }
  try {
    ws.close()
  } catch {
    // already closed
  }
}
