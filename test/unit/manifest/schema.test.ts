import {expect} from 'chai'
import {load} from 'js-yaml'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {UserError} from '../../../src/errors.js'
import {
  compilePodSchemaFile,
  loadBuiltinPodValidator,
  type PodSchemaValidator,
  QUANTITY_FORMAT,
  type SchemaError,
} from '../../../src/manifest/schema.js'
import {KUBE_YAML_SCHEMA} from '../../../src/manifest/yaml.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'schemas')
const SCHEMA_FILE = path.join(ROOT, 'schemas', 'pod-v1.schema.json')
const TYPES = path.join(ROOT, 'node_modules', 'kubernetes-models', 'v1')

interface SchemaNode {
  $ref?: string
  [keyword: string]: unknown
  additionalProperties?: boolean | SchemaNode
  properties?: Record<string, SchemaNode>
  required?: string[]
}

const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as SchemaNode & {definitions: Record<string, SchemaNode>}

function definition(name: string): SchemaNode {
  const found = schema.definitions[name]
  if (!found) throw new Error(`no definition ${name}`)
  return found
}

function core(name: string): SchemaNode {
  return definition(`io.k8s.api.core.v1.${name}`)
}

function propertyNames(node: SchemaNode): string[] {
  return Object.keys(node.properties ?? {}).sort()
}

/** The members of an interface in a kubernetes-models .d.ts file, read independently of the generator. */
function typeMembers(file: string, name: string): string[] {
  const text = readFileSync(file, 'utf8')
  const start = text.indexOf(`export interface ${name} `)
  expect(start, `${name} in ${file}`).to.be.greaterThan(-1)
  const body = text.slice(start, text.indexOf('\n}', start))
  return [...body.matchAll(/^ {4}"(\w+)"\??:/gm)].map(m => m[1] ?? '').sort()
}

function fixture(name: string): unknown {
  return load(readFileSync(path.join(FIXTURES, name), 'utf8'), {schema: KUBE_YAML_SCHEMA})
}

/** A minimal valid Pod whose first container gets `container`'s fields. */
function podWith(container: Record<string, unknown>, spec: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name: 'web', namespace: 'default'},
    spec: {containers: [{image: 'nginx:1.27', name: 'web', ...container}], ...spec},
  }
}

function brief(errors: SchemaError[]): Array<Omit<SchemaError, 'message'>> {
  return errors.map(({instancePath, keyword, params}) => ({instancePath, keyword, params}))
}

describe('manifest/schema', () => {
  let validate: PodSchemaValidator

  before(async () => {
    validate = await loadBuiltinPodValidator()
  })

  describe('the generated schema', () => {
    it('is in $ref + definitions form, rooted at Pod, with only reachable definitions', () => {
      expect(schema.$ref).to.equal('#/definitions/io.k8s.api.core.v1.Pod')
      const referenced = new Set<string>()
      JSON.stringify(schema, (key, value: unknown) => {
        if (key === '$ref' && typeof value === 'string') referenced.add(value.replace('#/definitions/', ''))
        return value
      })
      expect([...referenced].sort()).to.deep.equal(Object.keys(schema.definitions).sort())
      expect(Object.keys(schema.definitions).length).to.be.greaterThan(100)
    })

    it('has no descriptions, and additionalProperties: false on every object with properties', () => {
      const open: string[] = []
      const described: string[] = []
      const visit = (node: unknown, where: string): void => {
        if (node === null || typeof node !== 'object') return
        const n = node as SchemaNode
        if ('description' in n) described.push(where)
        if (n.properties) {
          if (n.additionalProperties !== false) open.push(where)
          for (const [key, child] of Object.entries(n.properties)) visit(child, `${where}.${key}`)
        }

        for (const key of ['items', 'additionalProperties']) visit(n[key], `${where}[${key}]`)
      }

      for (const [name, node] of Object.entries(schema.definitions)) visit(node, name)
      expect(open).to.deep.equal([])
      expect(described).to.deep.equal([])
    })

    it('keeps maps open to any key with typed values (labels, annotations, resources.limits)', () => {
      const meta = definition('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').properties ?? {}
      expect(meta.labels).to.deep.equal({additionalProperties: {type: 'string'}, type: 'object'})
      expect(meta.annotations).to.deep.equal({additionalProperties: {type: 'string'}, type: 'object'})
      expect(core('ResourceRequirements').properties?.limits).to.deep.equal({
        additionalProperties: {$ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity'},
        type: 'object',
      })
    })

    it('has every field of the API types for Pod, PodSpec, Container, Volume, probes and security contexts', () => {
      const types: Array<[string, string, string]> = [
        ['Pod', 'Pod.d.ts', 'IPod'],
        ['PodSpec', 'PodSpec.d.ts', 'IPodSpec'],
        ['Container', 'Container.d.ts', 'IContainer'],
        ['EphemeralContainer', 'EphemeralContainer.d.ts', 'IEphemeralContainer'],
        ['Volume', 'Volume.d.ts', 'IVolume'],
        ['VolumeProjection', 'VolumeProjection.d.ts', 'IVolumeProjection'],
        ['Probe', 'Probe.d.ts', 'IProbe'],
        ['LifecycleHandler', 'LifecycleHandler.d.ts', 'ILifecycleHandler'],
        ['SecurityContext', 'SecurityContext.d.ts', 'ISecurityContext'],
        ['PodSecurityContext', 'PodSecurityContext.d.ts', 'IPodSecurityContext'],
        ['ResourceRequirements', 'ResourceRequirements.d.ts', 'IResourceRequirements'],
        ['EnvVarSource', 'EnvVarSource.d.ts', 'IEnvVarSource'],
      ]
      for (const [name, file, type] of types) {
        expect(propertyNames(core(name)), name).to.deep.equal(typeMembers(path.join(TYPES, file), type))
      }

      expect(propertyNames(core('PodSpec'))).to.include.members([
        'containers',
        'hostNetwork',
        'initContainers',
        'priority',
        'priorityClassName',
        'securityContext',
        'tolerations',
        'volumes',
      ])
    })

    it('has every volume source', () => {
      expect(propertyNames(core('Volume'))).to.include.members([
        'awsElasticBlockStore',
        'azureDisk',
        'azureFile',
        'cephfs',
        'cinder',
        'configMap',
        'csi',
        'downwardAPI',
        'emptyDir',
        'ephemeral',
        'fc',
        'flexVolume',
        'flocker',
        'gcePersistentDisk',
        'gitRepo',
        'glusterfs',
        'hostPath',
        'image',
        'iscsi',
        'nfs',
        'persistentVolumeClaim',
        'photonPersistentDisk',
        'portworxVolume',
        'projected',
        'quobyte',
        'rbd',
        'scaleIO',
        'secret',
        'storageos',
        'vsphereVolume',
      ])
    })

    it('has required fields as the API has them, and none on Pod itself', () => {
      expect(definition('io.k8s.api.core.v1.Pod').required).to.equal(undefined)
      expect(core('PodSpec').required).to.deep.equal(['containers'])
      expect(core('Container').required).to.deep.equal(['name'])
      expect(core('ContainerPort').required).to.deep.equal(['containerPort'])
      expect(core('HTTPGetAction').required).to.deep.equal(['port'])
      expect(core('HostPathVolumeSource').required).to.deep.equal(['path'])
      expect(core('Volume').required).to.deep.equal(['name'])
    })

    it('has integer fields with their API formats, IntOrString and Quantity in their wire forms', () => {
      expect(core('ContainerPort').properties?.containerPort).to.deep.equal({format: 'int32', type: 'integer'})
      expect(core('PodSpec').properties?.terminationGracePeriodSeconds).to.deep.equal({format: 'int64', type: 'integer'})
      expect(core('PodSecurityContext').properties?.supplementalGroups).to.deep.equal({
        items: {format: 'int64', type: 'integer'},
        type: 'array',
      })
      expect(definition('io.k8s.apimachinery.pkg.util.intstr.IntOrString')).to.deep.equal({format: 'int32', type: ['integer', 'string']})
      expect(definition('io.k8s.apimachinery.pkg.api.resource.Quantity')).to.deep.equal({format: 'quantity', type: ['string', 'number']})
      expect(definition('io.k8s.apimachinery.pkg.apis.meta.v1.Time')).to.deep.equal({format: 'date-time', type: 'string'})
      const numbers: string[] = []
      JSON.stringify(schema, (key, value: unknown) => {
        if (key === 'type' && value === 'number') numbers.push(key)
        return value
      })
      expect(numbers, 'plain `number` fields (the API has none in a Pod)').to.deep.equal([])
    })

    it('has enums from the API types', () => {
      expect(core('PodSpec').properties?.restartPolicy).to.deep.equal({enum: ['Always', 'Never', 'OnFailure'], type: 'string'})
      expect(core('Container').properties?.imagePullPolicy).to.deep.equal({enum: ['Always', 'IfNotPresent', 'Never'], type: 'string'})
      expect(core('HostPathVolumeSource').properties?.type?.enum).to.include.members(['', 'DirectoryOrCreate', 'Socket'])
    })

    it('is what `npm run schemas` generates today', function () {
      this.timeout(120_000)
      const out = mkdtempSync(path.join(tmpdir(), 'staticpod-schemas-'))
      try {
        const summary = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen-schemas.ts', '--out', out], {cwd: ROOT, encoding: 'utf8'})
        expect(summary.trim().split('\n')).to.have.length(1)
        expect(summary).to.match(/pod-v1\.schema\.json \(\d+ definitions, [\d.]+ KiB\), pod-v1\.validate\.cjs/)
        for (const file of ['pod-v1.schema.json', 'pod-v1.validate.cjs', 'README.md']) {
          const committed = readFileSync(path.join(ROOT, 'schemas', file), 'utf8')
          expect(readFileSync(path.join(out, file), 'utf8') === committed, `schemas/${file} is stale: run npm run schemas`).to.equal(true)
        }
      } finally {
        rmSync(out, {force: true, recursive: true})
      }
    })
  })

  describe('the built-in validator', () => {
    for (const name of ['valid-kube-apiserver.yaml', 'valid-etcd.yaml', 'valid-every-volume-source.yaml']) {
      it(`passes ${name}`, () => {
        expect(validate(fixture(name))).to.deep.equal([])
      })
    }

    it('is exercised on every volume source by the everything fixture', () => {
      const pod = fixture('valid-every-volume-source.yaml') as {spec: {volumes: Array<Record<string, unknown>>}}
      const sources = new Set(pod.spec.volumes.flatMap(v => Object.keys(v)).filter(k => k !== 'name'))
      expect([...sources].sort()).to.deep.equal(propertyNames(core('Volume')).filter(k => k !== 'name'))
    })

    it('needs nothing at the top level (apiVersion, kind and metadata.name are the rules\' business)', () => {
      expect(validate({})).to.deep.equal([])
      expect(validate({apiVersion: 'apps/v1', kind: 'Deployment'})).to.deep.equal([])
    })

    it('reports an unknown field at its parent object, with the field name in params', () => {
      const errors = validate(podWith({imagePullPolcy: 'Always'}))
      expect(brief(errors)).to.deep.equal([
        {instancePath: '/spec/containers/0', keyword: 'additionalProperties', params: {additionalProperty: 'imagePullPolcy'}},
      ])
      expect(errors[0]?.message).to.equal('must NOT have additional properties')
    })

    it('reports unknown fields anywhere: top level, metadata, volume sources, probes', () => {
      const pod = podWith(
        {livenessProbe: {httpGet: {port: 80, timeout: 5}}},
        {volumes: [{hostPath: {path: '/data', typo: 'Directory'}, name: 'data'}]},
      ) as Record<string, Record<string, unknown>>
      pod.metadata = {...pod.metadata, lables: {app: 'web'}}
      pod.spce = {}
      expect(brief(validate(pod))).to.have.deep.members([
        {instancePath: '', keyword: 'additionalProperties', params: {additionalProperty: 'spce'}},
        {instancePath: '/metadata', keyword: 'additionalProperties', params: {additionalProperty: 'lables'}},
        {instancePath: '/spec/containers/0/livenessProbe/httpGet', keyword: 'additionalProperties', params: {additionalProperty: 'timeout'}},
        {instancePath: '/spec/volumes/0/hostPath', keyword: 'additionalProperties', params: {additionalProperty: 'typo'}},
      ])
    })

    it('takes an int-or-string port as an integer or a string, nothing else', () => {
      for (const port of [8080, 'http']) {
        expect(validate(podWith({livenessProbe: {httpGet: {path: '/', port}}, readinessProbe: {tcpSocket: {port}}})), String(port)).to.deep.equal([])
      }

      expect(brief(validate(podWith({livenessProbe: {httpGet: {port: true}}})))).to.deep.equal([
        {instancePath: '/spec/containers/0/livenessProbe/httpGet/port', keyword: 'type', params: {type: ['integer', 'string']}},
      ])
      expect(brief(validate(podWith({livenessProbe: {httpGet: {port: 80.5}}})))).to.deep.equal([
        {instancePath: '/spec/containers/0/livenessProbe/httpGet/port', keyword: 'type', params: {type: ['integer', 'string']}},
      ])
      expect(brief(validate(podWith({livenessProbe: {httpGet: {port: 2 ** 31}}})))).to.deep.equal([
        {instancePath: '/spec/containers/0/livenessProbe/httpGet/port', keyword: 'format', params: {format: 'int32'}},
      ])
      expect(brief(validate(podWith({readinessProbe: {grpc: {port: 'grpc'}}})))).to.deep.equal([
        {instancePath: '/spec/containers/0/readinessProbe/grpc/port', keyword: 'type', params: {type: 'integer'}},
      ])
    })

    it('takes quantities as numbers or strings in Quantity syntax', () => {
      for (const quantity of ['100m', 1, 0.5, '1.5Gi', '128974848', '129e6', '123Mi', '1E', '+1k', '.5', '2u', -1]) {
        expect(validate(podWith({resources: {limits: {cpu: quantity}, requests: {memory: quantity}}})), String(quantity)).to.deep.equal([])
      }

      for (const quantity of ['1Gix', 'abc', '', '1 Gi', '1e1.5', '1KI', '1h']) {
        expect(brief(validate(podWith({resources: {limits: {memory: quantity}}}))), JSON.stringify(quantity)).to.deep.equal([
          {instancePath: '/spec/containers/0/resources/limits/memory', keyword: 'format', params: {format: 'quantity'}},
        ])
      }

      expect(brief(validate(podWith({resources: {requests: {cpu: true}}})))).to.deep.equal([
        {instancePath: '/spec/containers/0/resources/requests/cpu', keyword: 'type', params: {type: ['string', 'number']}},
      ])
    })

    it('reports wrong types once, without a redundant format error', () => {
      const errors = validate(podWith(
        {args: '--verbose', ports: [{containerPort: '80'}, {containerPort: 80.5}]},
        {hostNetwork: 'yes', nodeSelector: {disk: 1}, priority: 2 ** 31},
      ))
      expect(brief(errors)).to.have.deep.members([
        {instancePath: '/spec/containers/0/args', keyword: 'type', params: {type: 'array'}},
        {instancePath: '/spec/containers/0/ports/0/containerPort', keyword: 'type', params: {type: 'integer'}},
        {instancePath: '/spec/containers/0/ports/1/containerPort', keyword: 'type', params: {type: 'integer'}},
        {instancePath: '/spec/hostNetwork', keyword: 'type', params: {type: 'boolean'}},
        {instancePath: '/spec/nodeSelector/disk', keyword: 'type', params: {type: 'string'}},
        {instancePath: '/spec/priority', keyword: 'format', params: {format: 'int32'}},
      ])
      expect(errors).to.have.length(6)
    })

    it('reports missing required fields at their parent object', () => {
      expect(brief(validate(podWith({name: undefined})))).to.deep.equal([
        {instancePath: '/spec/containers/0', keyword: 'required', params: {missingProperty: 'name'}},
      ])
      expect(brief(validate({apiVersion: 'v1', kind: 'Pod', spec: {}}))).to.deep.equal([
        {instancePath: '/spec', keyword: 'required', params: {missingProperty: 'containers'}},
      ])
      expect(brief(validate(podWith({livenessProbe: {httpGet: {path: '/healthz'}}})))).to.deep.equal([
        {instancePath: '/spec/containers/0/livenessProbe/httpGet', keyword: 'required', params: {missingProperty: 'port'}},
      ])
    })

    it('reports enum violations with the allowed values', () => {
      expect(brief(validate(podWith({imagePullPolicy: 'Sometimes'}, {restartPolicy: 'Sometimes'})))).to.have.deep.members([
        {instancePath: '/spec/containers/0/imagePullPolicy', keyword: 'enum', params: {allowedValues: ['Always', 'IfNotPresent', 'Never']}},
        {instancePath: '/spec/restartPolicy', keyword: 'enum', params: {allowedValues: ['Always', 'Never', 'OnFailure']}},
      ])
    })

    it('treats null-valued fields as unset, but not null list items', () => {
      expect(validate(podWith({resources: null}, {nodeName: null, securityContext: null}))).to.deep.equal([])
      expect(brief(validate(podWith({}, {containers: [null]})))).to.deep.equal([
        {instancePath: '/spec/containers/0', keyword: 'type', params: {type: 'object'}},
      ])
      expect(brief(validate(null))).to.deep.equal([{instancePath: '', keyword: 'type', params: {type: 'object'}}])
    })

    it('checks date-time fields', () => {
      const pod = podWith({}) as {metadata: Record<string, unknown>}
      pod.metadata.creationTimestamp = 'yesterday'
      expect(brief(validate(pod))).to.deep.equal([{instancePath: '/metadata/creationTimestamp', keyword: 'format', params: {format: 'date-time'}}])
    })

    it('is loaded precompiled: neither ajv nor its compiler is loaded', () => {
      const code = `
        import {createRequire} from 'node:module'
        const {loadBuiltinPodValidator} = await import('./src/manifest/schema.ts')
        const validate = await loadBuiltinPodValidator()
        const errors = validate({spec: {containers: [{name: 'a', imagePullPolcy: 'Always'}]}})
        console.log(JSON.stringify({errors: errors.length, modules: Object.keys(createRequire(process.cwd() + '/').cache)}))
      `
      const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {cwd: ROOT, encoding: 'utf8'})
      expect(result.status, result.stderr).to.equal(0)
      const {errors, modules} = JSON.parse(result.stdout) as {errors: number; modules: string[]}
      expect(errors).to.equal(1)
      expect(modules.some(m => m.endsWith(path.join('schemas', 'pod-v1.validate.cjs')))).to.equal(true)
      expect(modules.filter(m => m.includes(`${path.sep}ajv${path.sep}`))).to.deep.equal([])
    })
  })

  describe('the quantity format', () => {
    it('follows resource.ParseQuantity', () => {
      for (const ok of ['0', '1', '1.', '.5', '-1', '+1', '100m', '5n', '10u', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei', '1e3', '1E-3', '2e+10', ' 1Gi ']) {
        expect(QUANTITY_FORMAT.test(ok), ok).to.equal(true)
      }

      for (const bad of ['', ' ', '.', 'm', 'Gi', '1 Gi', '1Gix', '1K', '1gi', '1e', '1e1.5', '1.2.3', '0x10', '1,5']) {
        expect(QUANTITY_FORMAT.test(bad), bad).to.equal(false)
      }
    })
  })

  describe('compilePodSchemaFile', () => {
    it('compiles a yannh-style draft-04 schema with x-kubernetes-* keywords and int-or-string', async () => {
      const custom = await compilePodSchemaFile(path.join(FIXTURES, 'yannh-pod-v1.json'))
      for (const port of [8080, 'http']) {
        const pod = podWith({livenessProbe: {httpGet: {path: '/', port}}, ports: [{containerPort: 80}]}, {hostNetwork: true})
        expect(custom(pod), String(port)).to.deep.equal([])
      }

      // The cut-down schema knows fewer fields than kubeadm uses.
      expect(brief(custom(fixture('valid-etcd.yaml')))).to.deep.include({
        instancePath: '/spec',
        keyword: 'additionalProperties',
        params: {additionalProperty: 'priorityClassName'},
      })
    })

    it('reports what the user schema says is wrong', async () => {
      const custom = await compilePodSchemaFile(path.join(FIXTURES, 'yannh-pod-v1.json'))
      const errors = brief(custom(podWith({imagePullPolcy: 'Always', ports: [{containerPort: '80'}]}, {priority: 1.5})))
      expect(errors).to.deep.include({instancePath: '/spec/containers/0', keyword: 'additionalProperties', params: {additionalProperty: 'imagePullPolcy'}})
      expect(errors).to.deep.include({instancePath: '/spec/containers/0/ports/0/containerPort', keyword: 'type', params: {type: 'integer'}})
      expect(errors).to.deep.include({instancePath: '/spec/priority', keyword: 'type', params: {type: ['integer', 'null']}})
      expect(errors.filter(e => e.keyword === 'format')).to.deep.equal([])
      const port = brief(custom(podWith({livenessProbe: {httpGet: {port: true}}})))
      expect(port.map(e => `${e.instancePath} ${e.keyword}`)).to.include('/spec/containers/0/livenessProbe/httpGet/port oneOf')
    })

    it('reads $ref-ed documents next to the schema (yannh non-standalone files)', async () => {
      const custom = await compilePodSchemaFile(path.join(FIXTURES, 'yannh-split', 'pod-v1.json'))
      expect(custom(podWith({ports: [{containerPort: 80, protocol: 'TCP'}]}))).to.deep.equal([])
      expect(brief(custom(podWith({ports: [{containerPort: 80, protcol: 'TCP'}]})))).to.deep.equal([
        {instancePath: '/spec/containers/0/ports/0', keyword: 'additionalProperties', params: {additionalProperty: 'protcol'}},
      ])
    })

    it('compiles the built-in schema file to the same verdicts as the precompiled validator', async () => {
      const compiled = await compilePodSchemaFile(SCHEMA_FILE)
      const docs = [
        fixture('valid-every-volume-source.yaml'),
        podWith({imagePullPolcy: 'Always', ports: [{containerPort: 80.5}], resources: {limits: {cpu: '1x'}}}, {restartPolicy: 'No'}),
        podWith({livenessProbe: {httpGet: {port: true}}}, {containers: [null]}),
      ]
      for (const doc of docs) expect(compiled(doc)).to.deep.equal(validate(doc))
    })

    const broken: Array<[string, RegExp]> = [
      ['no-such-file.json', /no-such-file\.json: no such schema file/],
      ['broken-not-json.json', /broken-not-json\.json: the schema is not JSON: .+/],
      ['broken-not-object.json', /broken-not-object\.json: the schema is not a JSON object/],
      ['broken-unresolvable-ref.json', /broken-unresolvable-ref\.json: cannot compile the JSON schema: .*can't resolve reference/],
      ['broken-invalid-keyword.json', /broken-invalid-keyword\.json: cannot compile the JSON schema: schema is invalid: .*type/],
      ['broken-missing-definitions-file.json', /no-such-definitions\.json: no such schema file \(referenced by .*broken-missing-definitions-file\.json\)/],
    ]
    for (const [file, message] of broken) {
      it(`gives a UserError for ${file}`, async () => {
        const error = await compilePodSchemaFile(path.join(FIXTURES, file)).then(
          () => {
            throw new Error('compiled')
          },
          (error_: unknown) => error_,
        )
        expect(error).to.be.instanceOf(UserError)
        expect((error as UserError).message).to.match(message)
        expect((error as UserError).exitCode).to.equal(2)
      })
    }

    it('gives a UserError for a directory', async () => {
      const error = await compilePodSchemaFile(FIXTURES).catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(UserError)
      expect((error as UserError).message).to.match(/cannot read the schema: EISDIR/)
    })
  })
})
