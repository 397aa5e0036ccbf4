/**
 * `@bytechannel/deno`: a WebSocket server on Deno (`Deno.serve` + `Deno.upgradeWebSocket`),
 * each connection a `ByteChannel`, and `DenoServer.layerServer` for core's portable `Server`.
 * Each module is also its own entry point (`@bytechannel/deno/DenoServer`).
 *
 * @module @bytechannel/deno
 * @since 1.0.0
 */

/**
 * The WebSocket server on Deno.
 *
 * @since 1.0.0
 */
export * as DenoServer from "./DenoServer.js"
