/**
 * Names (projects, experiments, groups, classes, datasets) are one line of plain text. A control
 * character in one — a newline above all — would end a comment line of a generated shell script and
 * start a command, break a one-line log or status message, or hide text on a terminal. They are
 * refused where names enter (the API, project.json) and escaped wherever text is echoed anyway.
 */

// C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u
const CONTROL_ALL = new RegExp(CONTROL.source, 'gu')

/** `U+000A`: how a code point is named in messages. */
export function codePointName(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

/** Why `text` is not one line of plain text (its first control character and where), or undefined when it is. */
export function controlCharacterProblem(text: string): string | undefined {
  const match = CONTROL.exec(text)
  if (!match) return undefined
  const what = match[0] === '\n' ? 'a line break' : match[0] === '\t' ? 'a tab' : 'a control character'
  return `holds ${what} (${codePointName(match[0])} at position ${match.index + 1}); names are one line of plain text`
}

/** `text` with its control characters written as visible escapes (`\n`, `\u0007`), for echoing it safely. */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_ALL, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`))
}
