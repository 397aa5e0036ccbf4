// A hand-rolled SVG bar chart of every scenario's ratios (bytechannel's advantage per peer, on a
// log scale: right of the 1× line bytechannel is ahead, left it is behind).
const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" })[c])

export const chart = (results) => {
  const rows = []
  for (const result of results) {
    rows.push({ title: result.scenario })
    for (const row of result.rows) {
      if (row.name.startsWith(result.baseline)) continue
      // Advantage > 1 means bytechannel is better, whichever way the unit points.
      const advantage = row.ratio
      rows.push({ label: row.name.replace(/ \((p50|server peak|sender holds|RSS).*$/, ""), advantage })
    }
  }
  const width = 900
  const labelWidth = 330
  const barArea = width - labelWidth - 80
  const lineHeight = 20
  const height = rows.length * lineHeight + 40
  const min = 1 / 16
  const max = 16
  const x = (value) => labelWidth + ((Math.log2(Math.min(max, Math.max(min, value))) - Math.log2(min)) / (Math.log2(max) - Math.log2(min))) * barArea
  const one = x(1)
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${one}" y="14" text-anchor="middle" fill="#444">1× (bytechannel ahead →)</text>`
  ]
  rows.forEach((row, i) => {
    const y = 28 + i * lineHeight
    if (row.title) {
      parts.push(`<text x="4" y="${y + 13}" font-weight="bold">${escape(row.title)}</text>`)
      return
    }
    const end = x(row.advantage)
    const color = row.advantage >= 1 ? "#2a7" : "#d64"
    parts.push(`<text x="${labelWidth - 6}" y="${y + 13}" text-anchor="end">${escape(row.label)}</text>`)
    parts.push(`<rect x="${Math.min(one, end)}" y="${y + 3}" width="${Math.max(1, Math.abs(end - one))}" height="${lineHeight - 6}" fill="${color}"/>`)
    parts.push(`<text x="${Math.max(one, end) + 4}" y="${y + 13}" fill="#333">${row.advantage.toFixed(2)}×</text>`)
  })
  parts.push(`<line x1="${one}" y1="20" x2="${one}" y2="${height - 4}" stroke="#444" stroke-dasharray="3,3"/>`, "</svg>")
  return parts.join("\n")
}
