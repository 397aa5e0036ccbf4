/**
 * The chat protocol: NDJSON messages checked by an Effect Schema, the same on the server, the
 * terminal client and the page.
 */
import * as Schema from "effect/Schema"

/** Client to server. */
export const ClientMessage = Schema.Union([
  Schema.TaggedStruct("Say", {
    from: Schema.String.check(Schema.isMaxLength(32)),
    text: Schema.String.check(Schema.isMaxLength(2000))
  }),
  Schema.TaggedStruct("Ping", {})
])
export type ClientMessage = typeof ClientMessage.Type

/**
 * Server to clients. `Welcome` comes first on each connection, once the server is subscribed to
 * the room: `server` names the server process, `online` counts people on every process.
 */
export const ServerMessage = Schema.Union([
  Schema.TaggedStruct("Said", { from: Schema.String, text: Schema.String, at: Schema.Number }),
  Schema.TaggedStruct("Pong", {}),
  Schema.TaggedStruct("Welcome", { server: Schema.String, online: Schema.Number }),
  Schema.TaggedStruct("Online", { count: Schema.Number })
])
export type ServerMessage = typeof ServerMessage.Type

/** Lines of chat are small: a bound far below the codec's default. */
export const maxLineLength = 16 * 1024

/** Between server processes (through the Hub): how many people one server has, sent every interval and on change. */
export const Presence = Schema.fromJsonString(Schema.Struct({ server: Schema.String, online: Schema.Number }))
