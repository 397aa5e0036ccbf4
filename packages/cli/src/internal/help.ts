/**
 * `--help` as text: `effect/cli`'s help document laid out as a manual page (each option on its
 * line, its description wrapped and indented below it), followed by the exit statuses and
 * examples every command shares. Plain text unless it goes to a terminal without `NO_COLOR`.
 *
 * @internal
 */
import type { FlagDoc, HelpDoc } from "effect/cli/HelpDoc"
import * as Option from "effect/Option"
import * as constants from "./constants.js"

/** The exit statuses, as `--help` lists them. */
const EXIT_STATUSES: ReadonlyArray<readonly [string, string]> = [
  [String(constants.EXIT_OK), "The connection closed with 1000, by either side."],
  [String(constants.EXIT_FAILURE), "It could not be opened (or the server could not listen), or stdin, stdout or the command failed."],
  [String(constants.EXIT_USAGE), "The arguments were wrong."],
  [
    String(constants.EXIT_CLOSED),
    "It closed with another code: the peer's (1001, 1011, 4000, ...), or ours (1007, 1009) for a bad frame from the peer; " +
      "or the peer closed with 1000 in the middle of a frame."
  ],
  [String(constants.EXIT_LOST), "It was lost: no close frame (1006)."],
  [
    `${constants.EXIT_SIGNAL.SIGINT}, ${constants.EXIT_SIGNAL.SIGTERM}`,
    "SIGINT (Ctrl-C), SIGTERM: the connection was closed with 1000 first (a server's with 1001)."
  ]
]

/** Examples shown under every command's help. */
const EXAMPLES: ReadonlyArray<string> = [
  "bytechannel serve --port 8080 --echo",
  "printf 'hello\\n' | bytechannel connect --codec lines ws://127.0.0.1:8080/",
  "bytechannel serve --port 8080 --exec 'tr a-z A-Z'",
  "bytechannel connect --text -H 'Authorization: Bearer TOKEN' wss://example.com/socket"
]

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
const wrap = (text: string, width: number): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/)) {
    if (word === "") continue
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === "" ? word : `${line} ${word}`
    }
  }
  if (line !== "") lines.push(line)
  return lines
}

const INDENT = "  "
const DESCRIPTION_INDENT = "      "

/** The help of a command, `width` columns wide; headings in bold when `bold`. */
export const format = (doc: HelpDoc, options: { readonly width: number; readonly bold: boolean }): string => {
  const heading = (text: string) => (options.bold ? `\u001b[1m${text}\u001b[0m` : text)
  const out: Array<string> = []
  const paragraph = (text: string, indent: string) => {
    for (const line of wrap(text, Math.max(options.width - indent.length, 20))) out.push(`${indent}${line}`)
  }
  /** An entry: its name on a line, its description wrapped below it. */
  const entry = (name: string, description: string) => {
    out.push(`${INDENT}${name}`)
    if (description !== "") paragraph(description, DESCRIPTION_INDENT)
  }
  /** Short entries side by side with their descriptions, the descriptions aligned. */
  const table = (rows: ReadonlyArray<readonly [string, string]>) => {
    const column = Math.max(...rows.map(([name]) => name.length)) + 2
    for (const [name, description] of rows) {
      const lines = wrap(description, Math.max(options.width - INDENT.length - column, 20))
      lines.forEach((line, i) => out.push(`${INDENT}${(i === 0 ? name : "").padEnd(column)}${line}`))
    }
  }
  const flagName = (flag: FlagDoc) => [...flag.aliases, `--${flag.name}`].join(", ") + (flag.type === "boolean" ? "" : ` ${flag.type}`)
  // The choices are in the value's name already (`--codec raw|lines|...`): not again after the description.
  const flagDescription = (flag: FlagDoc) =>
    Option.getOrElse(flag.description, () => "").replace(flag.type.includes("|") ? /\s*\(choices: [^)]*\)$/ : /$^/, "")

  out.push(heading("USAGE"), `${INDENT}${doc.usage}`, "")
  if (doc.description !== "") {
    out.push(heading("DESCRIPTION"))
    paragraph(doc.description, INDENT)
    out.push("")
  }
  if (doc.args !== undefined && doc.args.length > 0) {
    out.push(heading("ARGUMENTS"))
    for (const arg of doc.args) entry(`<${arg.name}>${arg.variadic ? "..." : ""}`, Option.getOrElse(arg.description, () => ""))
    out.push("")
  }
  if (doc.subcommands !== undefined && doc.subcommands.length > 0) {
    out.push(heading("COMMANDS"))
    table(doc.subcommands.flatMap((group) => group.commands.map((command) => [command.name, command.shortDescription ?? command.description] as const)))
    out.push("")
  }
  if (doc.flags.length > 0) {
    out.push(heading("OPTIONS"))
    for (const flag of doc.flags) entry(flagName(flag), flagDescription(flag))
    out.push("")
  }
  const global = [...(doc.inheritedFlags ?? []), ...(doc.globalFlags ?? [])]
  if (global.length > 0) {
    out.push(heading("GLOBAL OPTIONS"))
    for (const flag of global) entry(flagName(flag), flagDescription(flag))
    out.push("")
  }
  out.push(heading("EXIT STATUS"))
  table(EXIT_STATUSES)
  paragraph("The last line on stderr says how it ended, e.g. closed 4000 \"bye\" by the peer.", INDENT)
  out.push("", heading("EXAMPLES"))
  for (const example of EXAMPLES) out.push(`${INDENT}${example}`)
  return out.join("\n")
}
