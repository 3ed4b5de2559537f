import {expect} from 'chai'

import * as names from '../../../src/manifest/names.js'

describe('Kubernetes name syntax', () => {
  const table: Array<[string, (v: string) => string | undefined, string[], string[]]> = [
    ['dns1123Label', names.dns1123Label, ['web', 'a', 'web-1', '0abc', 'a'.repeat(63)], ['Web', '-web', 'web-', 'we_b', 'a.b', '', 'a'.repeat(64)]],
    ['dns1123Subdomain', names.dns1123Subdomain, ['static-web', 'a.b.c', 'kube-apiserver', 'a'.repeat(253)], ['Static_Web', 'a..b', '.a', 'a.', '', 'a'.repeat(254)]],
    ['qualifiedName', names.qualifiedName, ['app', 'app.kubernetes.io/name', 'A_b.c', 'x/y'], ['bad key!', '/name', 'example.com/', 'Example.COM/x', '-a', 'a'.repeat(64)]],
    ['labelValue', names.labelValue, ['', 'myrole', 'v1.2_3-x'], ['has spaces', '-a', 'a-', 'a'.repeat(64)]],
    ['portName', names.portName, ['http', 'web', 'probe-port', 'h2c'], ['http-port-too-long', 'HTTP', 'a--b', '8080', '-web', 'web-']],
  ]

  for (const [name, check, valid, invalid] of table) {
    it(`${name} accepts ${valid.length} valid and rejects ${invalid.length} invalid values`, () => {
      for (const v of valid) expect(check(v), `${name}(${JSON.stringify(v)})`).to.equal(undefined)
      for (const v of invalid) expect(check(v), `${name}(${JSON.stringify(v)})`).to.be.a('string')
    })
  }

  it('parses quantities as the API does', () => {
    for (const v of ['100m', '0.5', '1', '128Mi', '1G', '1e3', '+1', '.5', '1.5Gi', 0, 2.5]) {
      expect(names.quantity(v), String(v)).to.equal(undefined)
    }

    for (const v of ['100 m', 'lots', '1GB', '1Mib', 'm', '', '1..5', Number.POSITIVE_INFINITY]) {
      expect(names.quantity(v), String(v)).to.be.a('string')
    }
  })
})
