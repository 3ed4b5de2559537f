import {expect} from 'chai'

import {UserError} from '../../../src/errors.js'
import {
  getField, parseKubeletConfig, setConfigField, unsetConfigField,
} from '../../../src/kubelet/config-file.js'

/**
 * Surgical KubeletConfiguration edits on the node tree of src/yaml/positions.ts: what js-yaml's
 * offsets must get right (block scalars, aliases, flow maps, CRLF, a byte order mark), and values
 * written so that go-yaml (the kubelet's decoder) reads them back as they were meant.
 */

const HEAD = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n'

function roundTrip(text: string, field: string): unknown {
  const parsed = parseKubeletConfig(text, 'config.yaml')
  expect(parsed.errors, text).to.deep.equal([])
  return getField(parsed.data, field).value
}

describe('kubelet config edits on YAML positions', () => {
  describe('values as go-yaml reads them', () => {
    it('quotes a string that go-yaml would read as a boolean, a number or null', () => {
      const text = HEAD + 'staticPodPath: /etc/kubernetes/manifests\n'
      for (const value of ['yes', 'no', 'on', 'off', 'y', 'N', 'True', '0644', '1e3', '0x1F', '1_000', '.5', '~', 'null', '']) {
        const after = setConfigField(text, 'staticPodPath', value)
        expect(after, value).to.equal(HEAD + `staticPodPath: '${value}'\n`)
        expect(roundTrip(after, 'staticPodPath'), value).to.equal(value)
      }
    })

    it('leaves strings plain that need no quotes, and writes numbers and booleans bare', () => {
      const text = HEAD + 'staticPodPath: /p\n'
      expect(setConfigField(text, 'staticPodPath', '2020-01-01')).to.equal(HEAD + 'staticPodPath: 2020-01-01\n')
      expect(setConfigField(text, 'staticPodPath', 'unix:///run/x.sock')).to.equal(HEAD + 'staticPodPath: unix:///run/x.sock\n')
      expect(setConfigField(text, 'staticPodPath', 420)).to.equal(HEAD + 'staticPodPath: 420\n')
      expect(setConfigField(text, 'staticPodPath', true)).to.equal(HEAD + 'staticPodPath: true\n')
    })

    it('quotes such strings in new fields, lists, maps and their keys too', () => {
      const text = HEAD + 'staticPodPath: /p\n'
      const after = setConfigField(text, 'staticPodURLHeader', {'X-Yes': ['yes', '0644'], y: ['1']})
      expect(after).to.equal(text + 'staticPodURLHeader:\n  X-Yes:\n  - \'yes\'\n  - \'0644\'\n  \'y\':\n  - \'1\'\n')
      expect(roundTrip(after, 'staticPodURLHeader')).to.deep.equal({'X-Yes': ['yes', '0644'], y: ['1']})
      const flow = setConfigField(HEAD + 'featureGates: {A: true}\n', 'featureGates.on', 'no')
      expect(flow).to.equal(HEAD + 'featureGates: {A: true, \'on\': \'no\'}\n')
      expect(roundTrip(flow, 'featureGates')).to.deep.equal({A: true, on: 'no'})
    })

    it('keeps the quoting a scalar had, and writes a multi-line string on one line', () => {
      const text = HEAD + 'a: "x"\nb: \'y\'\nc: z   # c\n'
      expect(setConfigField(text, 'a', 'yes')).to.equal(HEAD + 'a: "yes"\nb: \'y\'\nc: z   # c\n')
      expect(setConfigField(text, 'b', 'it\'s')).to.equal(HEAD + 'a: "x"\nb: \'it\'\'s\'\nc: z   # c\n')
      const multi = setConfigField(text, 'c', 'one\ntwo')
      expect(multi).to.equal(HEAD + 'a: "x"\nb: \'y\'\nc: "one\\ntwo"   # c\n')
      expect(roundTrip(multi, 'c')).to.equal('one\ntwo')
    })

    it('reads a KubeletConfiguration with YAML 1.1 scalars, as the kubelet does', () => {
      const {data, errors} = parseKubeletConfig(HEAD + 'failSwapOn: yes\nfileMode: 0644\nresolvConf: "0644"\n', 'c')
      expect(errors).to.deep.equal([])
      expect(data).to.include({failSwapOn: true, fileMode: 420, resolvConf: '0644'})
      expect(parseKubeletConfig('a: 1\nb: [\n', 'c.yaml').errors).to.deep.equal(['c.yaml:3:1: unexpected end of the stream within a flow collection'])
      expect(parseKubeletConfig('a: 1\na: 2\n', 'c.yaml').errors[0]).to.match(/^c\.yaml:2:1: duplicated mapping key/)
      expect(parseKubeletConfig(HEAD + '---\nkind: Pod\n', 'c.yaml').errors).to.deep.equal(['c.yaml: 2 YAML documents (a KubeletConfiguration is one)'])
    })
  })

  describe('offsets', () => {
    it('replaces a block scalar up to its last line, leaving what follows', () => {
      const text = HEAD + 'description: |\n  some\n  text\n\n# next\nstaticPodPath: /p\n'
      expect(setConfigField(text, 'description', 'new')).to.equal(HEAD + 'description: new\n\n# next\nstaticPodPath: /p\n')
      expect(setConfigField(text, 'description', {a: 1})).to.equal(HEAD + 'description:\n  a: 1\n\n# next\nstaticPodPath: /p\n')
      expect(unsetConfigField(text, 'description')).to.equal(HEAD + '\n# next\nstaticPodPath: /p\n')
    })

    it('replaces a block map, keeping the comments after its last entry', () => {
      const text = HEAD + 'evictionHard:\n  memory.available: 100Mi   # x\n  # trailing\nz: 1\n'
      expect(setConfigField(text, 'evictionHard', {'nodefs.available': '5%'})).to.equal(HEAD + 'evictionHard:\n  nodefs.available: 5%\n  # trailing\nz: 1\n')
    })

    it('edits through an alias without touching its anchor', () => {
      const text = HEAD + 'base: &b\n  x: 1\nref: *b   # shared\n'
      const after = setConfigField(text, 'ref.y', 2)
      expect(after).to.equal(HEAD + 'base: &b\n  x: 1\nref:\n  x: 1\n  \'y\': 2\n')
      expect(roundTrip(after, 'base')).to.deep.equal({x: 1})
      expect(setConfigField(text, 'ref', 3)).to.equal(HEAD + 'base: &b\n  x: 1\nref: 3   # shared\n')
      expect(unsetConfigField(text, 'ref.x')).to.equal(text)
    })

    it('edits flow maps and sequences in place', () => {
      const text = HEAD + 'featureGates: {A: true,\n  B: false}  # gates\nclusterDNS: [10.0.0.1]\n'
      expect(setConfigField(text, 'featureGates.C', true)).to.equal(HEAD + 'featureGates: {A: true, B: false, C: true}  # gates\nclusterDNS: [10.0.0.1]\n')
      expect(unsetConfigField(text, 'featureGates.A')).to.equal(HEAD + 'featureGates: {B: false}  # gates\nclusterDNS: [10.0.0.1]\n')
      expect(setConfigField(text, 'clusterDNS', ['a', 'b'])).to.equal(HEAD + 'featureGates: {A: true,\n  B: false}  # gates\nclusterDNS: [a, b]\n')
    })

    it('inserts at the sorted place with the comments above the next key kept with it', () => {
      const text = 'apiVersion: v\nauthentication:\n  anonymous:\n    enabled: false\n  # webhook settings\n  webhook:\n    enabled: true\nkind: K\n'
      expect(setConfigField(text, 'authentication.tls', 'x')).to.equal(text.replace('  # webhook', '  tls: x\n  # webhook'))
      expect(setConfigField(text, 'authentication.zzz', 'x')).to.equal(text.replace('kind: K', '  zzz: x\nkind: K'))
    })

    it('keeps CRLF line breaks, in changed lines and new ones', () => {
      const text = (HEAD + 'authentication:\n  x509:\n    clientCAFile: /a\nclusterDNS:\n  - 10.0.0.1\nstaticPodPath: /p\n').replaceAll('\n', '\r\n')
      const edits = [
        setConfigField(text, 'staticPodPath', '/q'),
        setConfigField(text, 'clusterDNS', ['1.1.1.1', '8.8.8.8']),
        setConfigField(text, 'authentication.webhook.enabled', true),
        setConfigField(text, 'zzz', {a: ['x']}),
        unsetConfigField(text, 'authentication.x509.clientCAFile'),
      ]
      for (const after of edits) {
        expect(after.replaceAll('\r\n', ''), after).to.not.include('\n')
        expect(parseKubeletConfig(after, 'c').errors).to.deep.equal([])
      }

      expect(edits[1]).to.equal(text.replace('  - 10.0.0.1\r\n', '  - 1.1.1.1\r\n  - 8.8.8.8\r\n'))
      expect(edits[4]).to.equal(text.replace('authentication:\r\n  x509:\r\n    clientCAFile: /a\r\n', ''))
    })

    it('keeps a byte order mark', () => {
      const text = '\uFEFF' + HEAD + 'staticPodPath: /p\n'
      expect(setConfigField(text, 'staticPodPath', '/q')).to.equal('\uFEFF' + HEAD + 'staticPodPath: /q\n')
      expect(setConfigField(text, 'apiVersion', 'x')).to.equal('\uFEFFapiVersion: x\nkind: KubeletConfiguration\nstaticPodPath: /p\n')
      expect(setConfigField('\uFEFF{\n  "kind": "KubeletConfiguration"\n}\n', 'staticPodPath', '/p')).to.equal('\uFEFF{\n  "kind": "KubeletConfiguration",\n  "staticPodPath": "/p"\n}\n')
    })

    it('appends to a file without a final line break, and to one of comments only', () => {
      expect(setConfigField(HEAD + 'a: 1', 'b', 2)).to.equal(HEAD + 'a: 1\nb: 2\n')
      expect(setConfigField(HEAD + 'a:', 'a', 2)).to.equal(HEAD + 'a: 2')
      expect(setConfigField('# nothing yet', 'staticPodPath', '/p')).to.equal('# nothing yet\nstaticPodPath: /p\n')
    })

    it('refuses a file of more than one document, as a user error', () => {
      expect(() => setConfigField(HEAD + '---\nkind: Pod\n', 'staticPodPath', '/p')).to.throw(UserError, 'cannot edit a KubeletConfiguration with YAML errors: 2 YAML documents')
      // A file the kubelet cannot read has no fields to remove.
      expect(unsetConfigField('kind: K\nkind: L\n', 'kind')).to.equal('kind: K\nkind: L\n')
      expect(() => setConfigField('a: [1,\n', 'a', 1)).to.throw(UserError, /YAML errors: line 2, column 1: unexpected end of the stream/)
    })
  })
})
