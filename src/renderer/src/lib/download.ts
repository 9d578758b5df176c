/** Saving things the user exports (chart PNGs, table CSVs): a download in the browser and in Electron alike. */

/** A file name from a title: letters, digits, dashes. */
export function safeFileName(title: string, extension: string): string {
  const stem = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return `${stem || 'export'}.${extension}`
}

function clickLink(href: string, fileName: string): void {
  const link = document.createElement('a')
  link.href = href
  link.download = fileName
  link.rel = 'noopener'
  document.body.appendChild(link)
  link.click()
  link.remove()
}

/** Saves text (CSV) under a file name. */
export function downloadText(text: string, fileName: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  clickLink(url, fileName)
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** Saves a data URL (a chart's PNG) under a file name. */
export function downloadDataUrl(dataUrl: string, fileName: string): void {
  clickLink(dataUrl, fileName)
}
