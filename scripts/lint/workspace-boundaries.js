// ESLint rule: an import may cross from one workspace (packages/*, apps/*, or the repo root's
// tests, bench and scripts) into another only by package name, and only to a subpath that the
// target's package.json `exports` lists. Published packages never import the private apps.
// Test files may also reach the shared test support under tests/ by a relative path.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SCOPE = '@alipay-payment-handler/'

/** `packages/x`, `apps/x`, or `root` for a file of the repository. */
function workspaceOf(file) {
  const [top, name] = relative(ROOT, file).split(sep)
  return (top === 'packages' || top === 'apps') && name ? `${top}/${name}` : 'root'
}

const manifests = new Map()
/** name → { dir, private, exports keys } of every workspace, read once. */
function workspaces() {
  if (manifests.size > 0) return manifests
  for (const top of ['packages', 'apps']) {
    const dir = join(ROOT, top)
    if (!existsSync(dir)) continue
    for (const name of readdirNames(dir)) {
      const file = join(dir, name, 'package.json')
      if (!existsSync(file)) continue
      const json = JSON.parse(readFileSync(file, 'utf8'))
      const exports = typeof json.exports === 'object' && json.exports !== null ? Object.keys(json.exports) : ['.']
      manifests.set(json.name, { dir: `${top}/${name}`, private: json.private === true, exports })
    }
  }
  return manifests
}

function readdirNames(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
}

/** Whether `subpath` (".", "./x") matches an `exports` key, patterns with one `*` included. */
function exported(keys, subpath) {
  return keys.some((key) => {
    if (!key.includes('*')) return key === subpath
    const [head, tail] = key.split('*')
    return subpath.startsWith(head) && subpath.endsWith(tail) && subpath.length >= head.length + tail.length
  })
}

const isTestFile = (file) => /\.test\.ts$/.test(file) || workspaceOf(file) === 'root'

export default {
  meta: {
    type: 'problem',
    docs: { description: 'imports cross workspace boundaries only through package exports' },
    schema: [],
  },
  create(context) {
    const file = context.filename
    const from = workspaceOf(file)
    const check = (node) => {
      const source = node.source
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return
      const spec = source.value
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec)
        const to = workspaceOf(target)
        if (to === from) return
        const underTests = relative(ROOT, target).startsWith(`tests${sep}`)
        if (to === 'root' && underTests && isTestFile(file)) return
        context.report({
          node: source,
          message: `'${spec}' reaches into ${to === 'root' ? 'the repository root' : to} from ${from}: import it by package name through its exports.`,
        })
        return
      }
      if (!spec.startsWith(SCOPE)) return
      const [, name, ...rest] = spec.split('/')
      const target = workspaces().get(`${SCOPE}${name}`)
      if (!target) {
        context.report({ node: source, message: `'${spec}': no workspace is named ${SCOPE}${name}.` })
        return
      }
      const subpath = rest.length > 0 ? `./${rest.join('/')}` : '.'
      if (!exported(target.exports, subpath)) {
        context.report({ node: source, message: `'${spec}': ${subpath} is not in the exports of ${SCOPE}${name}.` })
      } else if (target.private && from.startsWith('packages/')) {
        context.report({
          node: source,
          message: `'${spec}': a published package may not import the private app ${name}.`,
        })
      }
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    }
  },
}
