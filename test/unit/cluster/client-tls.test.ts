// The API client's TLS settings against a real HTTPS server with the sandbox cluster's PKI (openssl): the
// kubeconfig's CA, insecure-skip-tls-verify, tls-server-name and a client certificate.
import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import https from 'node:https'
import {type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {type TLSSocket} from 'node:tls'
import {promisify} from 'node:util'

import {ApiClient, ApiError} from '../../../src/cluster/client.js'
import {type ClusterAccess} from '../../../src/cluster/kubeconfig.js'
import {makePki, type Pki} from '../../simulator/certs.js'

const run = promisify(execFile)

/** The ApiError of a GET that must fail. */
async function failure(access: ClusterAccess): Promise<ApiError> {
  return new ApiClient(access).get('/api').then(() => expect.fail('no error'), (error: unknown) => error as ApiError)
}

describe('cluster API client over TLS', function () {
  this.timeout(20_000)
  let dir: string
  let pki: Pki
  let server: https.Server
  let base: string
  let client: {cert: Buffer; key: Buffer}

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'staticpod-tls-'))
    // The serving certificate names 127.0.0.9 (and "kubernetes"), not 127.0.0.1 where the server listens.
    pki = await makePki(dir, '127.0.0.9')
    const file = (name: string) => path.join(dir, name)
    await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('admin.key'), '-out', file('admin.csr'), '-subj', '/CN=admin'])
    await run('openssl', ['x509', '-req', '-in', file('admin.csr'), '-CA', pki.caFile, '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('admin.crt'), '-days', '1'])
    client = {cert: readFileSync(file('admin.crt')), key: readFileSync(file('admin.key'))}
    server = https.createServer({
      ca: pki.ca, cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile), rejectUnauthorized: false, requestCert: true,
    }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate()
      const user = (req.socket as TLSSocket).authorized ? peer.subject?.CN : undefined
      res.writeHead(user ? 200 : 401, {'Content-Type': 'application/json'})
      res.end(JSON.stringify(user ? {user} : {kind: 'Status', message: 'Unauthorized'}))
    })
    await new Promise<void>(resolve => {
      server.listen(0, '127.0.0.1', resolve)
    })
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(() => {
    server?.closeAllConnections()
    server?.close()
    if (dir) rmSync(dir, {force: true, recursive: true})
  })

  const access = (extra: Partial<ClusterAccess>): ClusterAccess => ({
    cluster: 'c', context: 'c', insecureSkipTlsVerify: false, server: base, sources: [], user: 'u', ...extra,
  })

  it('the kubeconfig\'s CA, tls-server-name and client certificate: authenticated', async () => {
    const answer = await new ApiClient(access({ca: Buffer.from(pki.ca), ...client, tlsServerName: 'kubernetes'})).get<{user: string}>('/api')
    expect(answer).to.deep.equal({user: 'admin'})
  })

  it('without the CA the server is not trusted', async () => {
    const error = await failure(access({tlsServerName: 'kubernetes'}))
    expect(error).to.include({kind: 'unreachable'})
    expect(error.message).to.match(/certificate is not trusted .*certificate-authority/)
  })

  it('a certificate that does not name the host is refused, unless tls-server-name names it', async () => {
    const error = await failure(access({ca: Buffer.from(pki.ca), ...client}))
    expect(error.message).to.match(/does not name this host/)
  })

  it('insecure-skip-tls-verify; without a client certificate the server says 401', async () => {
    const error = await failure(access({insecureSkipTlsVerify: true}))
    expect(error).to.include({kind: 'unauthorized', status: 401})
    expect(await new ApiClient(access({insecureSkipTlsVerify: true, ...client})).get('/api')).to.deep.equal({user: 'admin'})
  })
})
