// Unencrypted ed25519 keys in OpenSSH's own format, made in-process: spawning ssh-keygen costs tens of
// milliseconds per key here, generating one in-process well under one. (PROTOCOL.key in OpenSSH's sources.)
import {createHash, generateKeyPairSync, randomInt} from 'node:crypto'

export interface KeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----`..., as `ssh-keygen -t ed25519 -N ''` writes it. */
  privateKey: string
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string
}

function sshString(data: Buffer | string): Buffer {
  const bytes = Buffer.from(data)
  const length = Buffer.alloc(4)
  length.writeUInt32BE(bytes.length)
  return Buffer.concat([length, bytes])
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value)
  return bytes
}

export function generateEd25519(comment: string): KeyPair {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({format: 'jwk'})
  const seed = Buffer.from(jwk.d ?? '', 'base64url')
  const pub = Buffer.from(jwk.x ?? '', 'base64url')
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)])
  const check = uint32(randomInt(2 ** 32))
  const secret = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ])
  // Padded with 1, 2, 3... to the cipher's block size, 8 for 'none'.
  const padding = Buffer.from(Array.from({length: (8 - (secret.length % 8)) % 8}, (_, i) => i + 1))
  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(''), // kdf options
    uint32(1), // number of keys
    sshString(publicBlob),
    sshString(Buffer.concat([secret, padding])),
  ])
  const body = blob.toString('base64').replaceAll(/.{1,70}/g, '$&\n')
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${publicBlob.toString('base64')} ${comment}\n`,
  }
}

/** OpenSSH's SHA256 fingerprint of a public key line (`ssh-ed25519 AAAA... comment`). */
export function fingerprint(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64')
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}
