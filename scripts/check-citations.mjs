#!/usr/bin/env node
// Checks that every protocol citation in the repo lands on a heading, and that relative links in the
// docs and READMEs point at files that exist.
//
//   node scripts/check-citations.mjs
//
// Citations look like `mapi-protocol §6.2`, `openapi-protocol §5.1–5.3` or `payment-handler-notes §4 g2`,
// also `docs/openapi-protocol.md` §10.3, or a markdown link to a document followed
// by a section. Lists and ranges continue a citation: a comma, `and`, `or` or a dash and a further section
// number (with or without its section sign) cite that section of the same document too.
// A citation resolves when its document has a heading whose number is the cited one (`## 6. …`,
// `### 6.2 …`, `## 6b. …`). Inside the three protocol documents a bare section number (a section sign and a
// number) refers to the document itself and is checked the same way. A bare section number anywhere
// else names no document: it is reported as a warning and does not fail the run.
//
// Prints `file:line: citation` for each one that does not resolve and exits 1; otherwise prints
// `citations: N resolved` and exits 0. Plain Node, no dependencies.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The documents citations can name: each by its file name in docs/, so a citation says where it resolves. */
const DOCS = {
  'mapi-protocol': 'docs/mapi-protocol.md',
  'openapi-protocol': 'docs/openapi-protocol.md',
  'payment-handler-notes': 'docs/payment-handler-notes.md',
}
const PROTOCOL_DOCS = new Set(Object.values(DOCS))

const SCAN_DIRS = ['packages', 'apps', 'tests', 'bench', 'scripts', 'docs']
const SCAN_FILES = ['README.md']
const EXTENSIONS = ['.ts', '.mjs', '.js', '.md']
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git'])

const SIGN = '\u00a7'
const NUM = String.raw`\d+(?:\.\d+)*[a-z]?`
/** A continuation: a comma, `and`, `or` or a dash and another section number, with or without its sign (`–5.3`). */
const MORE = String.raw`(?:\s*(?:,|and|or|&|–|-)\s*${SIGN}\s?${NUM}|\s*[–-]\s*${NUM}(?![\w.]))`
const NAMES = 'payment-handler-notes|mapi-protocol|openapi-protocol|mapi|openapi|notes'
/** `mapi-protocol §6.2`, `openapi-protocol.md` §3, or a link such as [docs/mapi-protocol.md](../docs/mapi-protocol.md) §4. */
const CITED = new RegExp(
  String.raw`(?<![\w-])(${NAMES})(?:\.md)?(?:\]\([^)\s]*\))?\`?\s?${SIGN}\s?(${NUM})(${MORE}*)`,
  'g',
)
const BARE = new RegExp(String.raw`(?<![\w-])${SIGN}\s?(${NUM})(${MORE}*)`, 'g')

function walk(dir, out) {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return out
  }
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(path, out)
    } else if (EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
      out.push(path)
    }
  }
  return out
}

const rel = (path) => relative(root, path).split(sep).join('/')

/** The section numbers a document's headings start with, outside code fences. */
const headingCache = new Map()
function headings(doc) {
  if (headingCache.has(doc)) return headingCache.get(doc)
  const numbers = new Set()
  const path = join(root, doc)
  if (existsSync(path)) {
    let fenced = false
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
      if (fenced) continue
      const match = /^#{1,6}\s+(\d+(?:\.\d+)*[a-z]?)(?:\.|\s|$)/.exec(line)
      if (match) numbers.add(match[1])
    }
  }
  headingCache.set(doc, numbers)
  return numbers
}

/**
 * The numbers a citation covers. A range whose ends differ only in their last component is
 * expanded (`5.1–5.3` covers 5.2 too); other ranges and lists cover what they name.
 */
function citedNumbers(first, rest) {
  const numbers = [first]
  let previous = first
  let expectRangeEnd = false
  for (const token of rest.matchAll(new RegExp(String.raw`[–-]|,|and|or|&|${NUM}`, 'g'))) {
    const text = token[0]
    if (text === '–' || text === '-') expectRangeEnd = true
    else if (/^\d/.test(text)) {
      if (expectRangeEnd) numbers.push(...between(previous, text))
      numbers.push(text)
      previous = text
      expectRangeEnd = false
    } else expectRangeEnd = false
  }
  return numbers
}

function between(from, to) {
  const a = from.split('.')
  const b = to.split('.')
  if (a.length !== b.length || a.slice(0, -1).join('.') !== b.slice(0, -1).join('.')) return []
  const start = Number(a.at(-1))
  const end = Number(b.at(-1))
  if (!Number.isInteger(start) || !Number.isInteger(end) || end - start > 50) return []
  const prefix = a.slice(0, -1)
  const out = []
  for (let n = start + 1; n < end; n++) out.push([...prefix, String(n)].join('.'))
  return out
}

/** Markdown links on a line, without inline code spans. */
function links(line) {
  const text = line.replace(/`[^`]*`/g, '')
  const out = []
  for (const match of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)) out.push(match[1])
  const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text)
  if (definition) out.push(definition[1])
  return out
}

function linkResolves(file, target) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('//')) return true
  let path = target.split('#')[0].split('?')[0]
  if (!path) return true
  try {
    path = decodeURIComponent(path)
  } catch {
    // Keep it as written.
  }
  const absolute = path.startsWith('/') ? join(root, path) : join(dirname(file), path)
  return existsSync(absolute)
}

const files = [
  ...SCAN_DIRS.flatMap((dir) => walk(join(root, dir), [])),
  ...SCAN_FILES.map((name) => join(root, name)).filter((path) => existsSync(path)),
]

/** Files whose relative links are checked: docs, the root README, and package and app READMEs. */
function checksLinks(path) {
  const name = rel(path)
  return (
    (name.startsWith('docs/') && name.endsWith('.md')) ||
    name === 'README.md' ||
    /^(packages|apps)\/[^/]+\/README\.md$/.test(name)
  )
}

const unresolved = []
const warnings = []
let resolvedCitations = 0
let resolvedLinks = 0

for (const file of files.sort()) {
  if (!statSync(file).isFile()) continue
  const name = rel(file)
  const lines = readFileSync(file, 'utf8').split('\n')
  const selfDoc = PROTOCOL_DOCS.has(name) ? name : undefined
  const linkFile = checksLinks(file)
  let fenced = false
  lines.forEach((line, index) => {
    const where = `${name}:${index + 1}`
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced

    const spans = []
    for (const match of line.matchAll(CITED)) {
      spans.push([match.index, match.index + match[0].length])
      const doc = DOCS[match[1]]
      for (const number of citedNumbers(match[2], match[3])) {
        if (headings(doc).has(number)) resolvedCitations++
        else unresolved.push(`${where}: ${match[1]} ${SIGN}${number} (no heading ${number} in ${doc})`)
      }
    }

    for (const match of line.matchAll(BARE)) {
      if (spans.some(([start, end]) => match.index >= start && match.index < end)) continue
      const before = line.slice(0, match.index)
      if (/\bRFC\s?\d+\s*$/i.test(before)) continue
      if (selfDoc) {
        for (const number of citedNumbers(match[1], match[2])) {
          if (headings(selfDoc).has(number)) resolvedCitations++
          else unresolved.push(`${where}: ${SIGN}${number} (no heading ${number} in ${selfDoc})`)
        }
      } else {
        warnings.push(`${where}: ${match[0].trim()} names no document`)
      }
    }

    if (linkFile && !fenced) {
      for (const target of links(line)) {
        if (linkResolves(file, target)) resolvedLinks++
        else unresolved.push(`${where}: link ${target} (no such file)`)
      }
    }
  })
}

for (const warning of warnings) console.error(`warning: ${warning}`)
for (const line of unresolved) console.log(line)
if (unresolved.length > 0) {
  console.log(`${unresolved.length} unresolved (${resolvedCitations} citations and ${resolvedLinks} links resolved)`)
  process.exit(1)
}
console.log(`citations: ${resolvedCitations} resolved`)
console.log(`links: ${resolvedLinks} resolved`)
