// The sandbox cluster's PKI, made with the openssl command: a CA and the API server's serving certificate for
// its loopback address (EC P-256, valid two days).
import {execFile} from 'node:child_process'
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {promisify} from 'node:util'

const run = promisify(execFile)

export interface Pki {
  ca: string
  caFile: string
  certFile: string
  keyFile: string
}

export async function makePki(dir: string, address: string): Promise<Pki> {
  const file = (name: string) => path.join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=kubernetes'])
  await run('openssl', ['req', ...ec, '-keyout', file('apiserver.key'), '-out', file('apiserver.csr'), '-subj', '/CN=kube-apiserver'])
  await writeFile(
    file('apiserver.ext'),
    `subjectAltName=IP:${address},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
  )
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    file('apiserver.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('apiserver.crt'),
    '-days',
    '2',
    '-extfile',
    file('apiserver.ext'),
  ])
  return {
    ca: await readFile(file('ca.crt'), 'utf8'), caFile: file('ca.crt'), certFile: file('apiserver.crt'), keyFile: file('apiserver.key'),
  }
}
