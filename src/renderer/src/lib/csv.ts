/** Tables as CSV (RFC 4180 quoting), for papers and spreadsheets. */

export interface CsvColumn<Row> {
  header: string
  value: (row: Row) => unknown
}

function cell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'number' && !Number.isFinite(value) ? '' : String(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** One header line, one line per row, each ending in a newline. */
export function toCsv<Row>(columns: readonly CsvColumn<Row>[], rows: readonly Row[]): string {
  const lines = [columns.map((c) => cell(c.header)).join(','), ...rows.map((row) => columns.map((c) => cell(c.value(row))).join(','))]
  return lines.join('\n') + '\n'
}

/** A matrix with row and column labels (confusion and similarity matrices). */
export function matrixCsv(corner: string, rowLabels: readonly string[], columnLabels: readonly string[], values: readonly (readonly (number | null)[])[]): string {
  const lines = [[corner, ...columnLabels].map(cell).join(',')]
  rowLabels.forEach((label, i) => lines.push([label, ...(values[i] ?? [])].map(cell).join(',')))
  return lines.join('\n') + '\n'
}
