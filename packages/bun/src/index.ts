/**
 * `@bytechannel/bun`: a WebSocket server on `Bun.serve`, each connection a `ByteChannel`, and
 * core's portable `Server` service on Bun. Each module is also its own entry point
 * (`@bytechannel/bun/BunServer`).
 *
 * @module @bytechannel/bun
 * @since 1.0.0
 */

/**
 * The WebSocket server on `Bun.serve`.
 *
 * @since 1.0.0
 */
export * as BunServer from "./BunServer.js"
