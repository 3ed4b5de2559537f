import {Ajv} from 'ajv'
import {expect} from 'chai'
import {CORE_SCHEMA, load} from 'js-yaml'
import {
  mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {UserError} from '../../../src/errors.js'
import {
  checkInventory, findInventory, loadInventory, parseInventory,
} from '../../../src/nodes/inventory.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const FIXTURES = join(HERE, '../../fixtures/inventory')
const fixtures = readdirSync(FIXTURES).filter(name => name.endsWith('.yaml'))
const schema = JSON.parse(readFileSync(join(HERE, '../../../schemas/inventory.schema.json'), 'utf8'))
const validateSchema = new Ajv({allErrors: true, strict: false}).compile(schema)
/** The inventory as editors read it for the JSON schema (YAML 1.2), and as staticpod does. */
const parse = (text: string): unknown => load(text, {schema: CORE_SCHEMA})

/** Semantic checks the schema cannot express: cross-references between nodes and groups, YAML-level problems. */
const SCHEMA_CANNOT_TELL = new Set([
  'invalid-duplicate-node.yaml',
  'invalid-group-cycle.yaml',
  'invalid-group-member.yaml',
  'invalid-name-clash.yaml',
  'invalid-syntax.yaml',
])

/** Problems as `line:column: path: message`. */
function problemLines(text: string): string[] {
  return checkInventory(text, 'staticpod.yaml', '/home/u').problems.map(p => `${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`)
}

describe('inventory', () => {
  describe('fixtures', () => {
    for (const name of fixtures.filter(file => file.startsWith('valid-'))) {
      it(`${name} is valid, for staticpod and for the JSON schema`, () => {
        const text = readFileSync(join(FIXTURES, name), 'utf8')
        const {problems} = checkInventory(text, name, '/home/u')
        expect(problems).to.deep.equal([])
        expect(validateSchema(parse(text)), JSON.stringify(validateSchema.errors)).to.equal(true)
      })
    }

    for (const name of fixtures.filter(file => file.startsWith('invalid-'))) {
      it(`${name} is invalid at the line and column it names`, () => {
        const text = readFileSync(join(FIXTURES, name), 'utf8')
        const expectation = /^# expect (\d+):(\d*):? ?(.*)$/m.exec(text)
        expect(expectation, 'fixture has an "# expect line:col: message" comment').to.not.equal(null)
        const [, line, column, message] = expectation!
        const {problems} = checkInventory(text, name, '/home/u')
        expect(problems, 'problems').to.have.length.greaterThan(0)
        const [first] = problems
        expect(first!.line, JSON.stringify(first)).to.equal(Number(line))
        if (column) expect(first!.column, JSON.stringify(first)).to.equal(Number(column))
        if (message) expect(`${first!.path ? `${first!.path}: ` : ''}${first!.message}`).to.include(message)
        if (!SCHEMA_CANNOT_TELL.has(name)) expect(validateSchema(parse(text)), 'the JSON schema rejects it too').to.equal(false)
      })
    }
  })

  it('reads the design example into nodes, groups, defaults and an expanded kubeconfig', () => {
    const inventory = parseInventory(readFileSync(join(FIXTURES, 'valid-full.yaml'), 'utf8'), 'staticpod.yaml', '/home/u')
    expect(inventory.defaults).to.deep.equal({manifestDir: '/etc/kubernetes/manifests', sudo: true, user: 'admin'})
    expect([...inventory.nodes.keys()]).to.deep.equal(['my-node1', 'my-node2', 'my-node3'])
    expect(inventory.nodes.get('my-node2')).to.deep.equal({
      host: '10.0.0.12', line: 8, name: 'my-node2', port: 2222,
    })
    expect(inventory.groups.get('everything')).to.deep.equal(['control-plane', 'workers'])
    expect(inventory.kubeconfig).to.equal('/home/u/.kube/config')
  })

  it('reports every problem at once, as file:line:column, in a usage error', () => {
    const text = 'nodes:\n  a: {prot: 1}\n  b: {port: "x"}\ngroups:\n  g: [zz]\n'
    let error: unknown
    try {
      parseInventory(text, '/etc/x/staticpod.yaml')
    } catch (error_) {
      error = error_
    }

    expect(error).to.be.instanceOf(UserError)
    const {exitCode, message} = error as UserError
    expect(exitCode).to.equal(2)
    expect(message).to.include('invalid inventory /etc/x/staticpod.yaml (3 problems)')
    expect(message).to.include('/etc/x/staticpod.yaml:2:7: nodes.a.prot: unknown field "prot" (did you mean "port"?)')
    expect(message).to.include('/etc/x/staticpod.yaml:3:13: nodes.b.port: must be a port number')
    expect(message).to.include('/etc/x/staticpod.yaml:5:7: groups.g: "zz" is neither a node nor a group')
  })

  describe('YAML', () => {
    it('reports every duplicate key where it is, and nothing else then', () => {
      expect(problemLines('nodes:\n  a: {}\n  a: {}\n  b: {prot: 1}\n  b: {}\n')).to.deep.equal([
        '3:3: Map keys must be unique ("a" is a key of this mapping already)',
        '5:3: Map keys must be unique ("b" is a key of this mapping already)',
      ])
    })

    it('refuses a second document at its marker', () => {
      expect(problemLines('nodes:\n  a: {}\n---\nnodes:\n  b: {}\n')).to.deep.equal(['3:1: the inventory must be a single YAML document (it has a second one here)'])
      expect(problemLines('nodes: {}\n...\n')).to.deep.equal([])
      expect(problemLines('---\nnodes: {}\n')).to.deep.equal([])
    })

    it('reads YAML 1.2 scalars: yes is not a boolean, 022 is the number 22', () => {
      expect(problemLines('defaults: {sudo: yes}\n')).to.deep.equal(['1:18: defaults.sudo: must be true or false'])
      expect(checkInventory('nodes: {a: {port: 022}}\n', 'x').inventory.nodes.get('a')?.port).to.equal(22)
    })

    it('follows aliases', () => {
      const {inventory, problems: found} = checkInventory('x: &u root\ndefaults: &d\n  user: admin\nnodes:\n  a: *d\n  b: {user: *u}\n', 'x')
      expect(found.map(p => p.message)).to.deep.equal(['unknown field "x"'])
      expect(inventory.nodes.get('a')).to.deep.equal({line: 5, name: 'a', user: 'admin'})
      expect(inventory.nodes.get('b')).to.deep.equal({line: 6, name: 'b', user: 'root'})
    })

    it('places problems right with CRLF line breaks and a byte order mark', () => {
      expect(problemLines('\uFEFFnodes:\r\n  a: {port: x}\r\n  b*: {}\r\n')).to.deep.equal([
        '2:13: nodes.a.port: must be a port number from 1 to 65535',
        '3:3: nodes.b*: invalid node name "b*": use letters, digits, \'.\', \'_\', \'-\' (no commas, spaces or wildcards)',
      ])
      expect(problemLines('\uFEFFdefault: {}\n')).to.deep.equal(['1:1: default: unknown field "default" (did you mean "defaults"?)'])
    })

    it('gives the syntax error with its line and column', () => {
      expect(problemLines('nodes:\n  a: {host: x\n  b: {}\n')).to.have.length(1)
      expect(problemLines('nodes:\n  a: b: c\n')).to.deep.equal(['2:7: bad indentation of a mapping entry'])
    })
  })

  describe('lookup order', () => {
    let dir: string

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'staticpod-inventory-'))
      mkdirSync(join(dir, 'cwd'))
      mkdirSync(join(dir, 'home/.config/staticpod'), {recursive: true})
    })

    afterEach(() => rmSync(dir, {force: true, recursive: true}))

    it('--config, then ./staticpod.yaml, then ~/.config/staticpod/config.yaml, else none', () => {
      const cwd = join(dir, 'cwd')
      const home = join(dir, 'home')
      expect(findInventory({cwd, home})).to.equal(undefined)
      writeFileSync(join(home, '.config/staticpod/config.yaml'), 'nodes: {from-home: {}}\n')
      expect(loadInventory({cwd, home})?.nodes.has('from-home')).to.equal(true)
      writeFileSync(join(cwd, 'staticpod.yaml'), 'nodes: {from-cwd: {}}\n')
      expect(loadInventory({cwd, home})?.nodes.has('from-cwd')).to.equal(true)
      writeFileSync(join(dir, 'explicit.yaml'), 'nodes: {explicit: {}}\n')
      expect(loadInventory({cwd, explicit: '../explicit.yaml', home})?.nodes.has('explicit')).to.equal(true)
    })

    it('an explicit --config that does not exist is a usage error', () => {
      expect(() => loadInventory({cwd: dir, explicit: 'nope.yaml', home: dir}))
      .to.throw(UserError, /cannot read inventory .*nope\.yaml: no such file/)
    })
  })
})
