import {diffLines} from 'diff'

/** The lines removed and added between two texts (each line with its newline, if it had one). */
export function lineChanges(before: string, after: string): {added: string[]; removed: string[]} {
  const added: string[] = []
  const removed: string[] = []
  for (const part of diffLines(before, after)) {
    const lines = part.value.split(/(?<=\n)/)
    if (part.added) added.push(...lines)
    else if (part.removed) removed.push(...lines)
  }

  return {added, removed}
}
