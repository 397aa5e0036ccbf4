/**
 * Compile-time only: src/internal/bun.ts declares the part of Bun's API the server uses; each
 * declaration must agree with Bun's own (`@types/bun`, pinned to the Bun the tests run on), or
 * this file stops type-checking (`tsc -b`).
 */
import type * as Real from "bun"
import type * as Ours from "../src/internal/bun.js"

interface Data {
  readonly id: number
}

/** What Bun hands the callbacks is what they declare they take. */
export const socket = (ws: Real.ServerWebSocket<Data>): Ours.ServerSocket<Data> => ws
export const server = (server: Real.Server<Data>): Pick<Ours.HttpServer<Data>, "hostname" | "port" | "stop" | "requestIP"> => server
/** What the server passes Bun is what Bun takes. */
export const handler = (handler: Ours.SocketHandler<Data>): Real.WebSocketHandler<Data> => handler
export const options = (options: Omit<Ours.ServeOptions<Data>, "fetch">): Omit<Real.Serve.Options<Data, never>, "fetch"> => options
export const status: Real.ServerWebSocketSendStatus = 0 satisfies ReturnType<Ours.ServerSocket<Data>["sendBinary"]>
