import type {ValidateResult} from '../../../src/manifest/types.js'

/**
 * What `staticpod validate manifests/ -` returns for a control-plane manifest directory plus a pod
 * piped on stdin: one valid pod, one invalid pod with an error and a warning, one file that does not
 * parse, and the stdin pod whose message echoes a label value full of XML-special characters and a
 * BEL control character.
 */
export const BELL = '\u0007'

export const STDIN_MESSAGE = `label value "<db & 'cache'>${BELL}" is not a valid label value`

export function realisticResult(): ValidateResult {
  return {
    results: [
      {
        document: 0,
        file: 'manifests/kube-apiserver.yaml',
        findings: [],
        kind: 'Pod',
        name: 'kube-apiserver',
        namespace: 'kube-system',
        status: 'valid',
      },
      {
        document: 0,
        file: 'manifests/etcd.yaml',
        findings: [
          {
            column: 5,
            line: 14,
            message: 'unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
            path: '/spec/containers/0/imagePullPolcy',
            rule: 'schema/unknown-field',
            severity: 'error',
          },
          {
            column: 3,
            line: 8,
            message: "spec.nodeName is set; the kubelet overwrites it with the node's name",
            path: '/spec/nodeName',
            rule: 'static-pod/overwritten-field',
            severity: 'warning',
          },
        ],
        kind: 'Pod',
        name: 'etcd',
        namespace: 'kube-system',
        status: 'invalid',
      },
      {
        document: 0,
        file: 'manifests/broken.yaml',
        findings: [
          {
            column: 9,
            line: 5,
            message: 'YAML syntax error: Nested mappings are not allowed in compact mappings',
            path: '',
            rule: 'yaml/syntax',
            severity: 'error',
          },
        ],
        status: 'error',
      },
      {
        document: 0,
        file: '-',
        findings: [
          {
            column: 11,
            line: 6,
            message: STDIN_MESSAGE,
            path: '/metadata/labels/tier',
            rule: 'api/label',
            severity: 'error',
          },
        ],
        kind: 'Pod',
        name: 'static-web',
        status: 'invalid',
      },
    ],
    summary: {
      documents: 4, errors: 1, files: 4, invalid: 2, valid: 1,
    },
  }
}

/** Every document valid; one has a warning. */
export function validResult(): ValidateResult {
  return {
    results: [
      {
        document: 0, file: 'a.yaml', findings: [], kind: 'Pod', name: 'a', status: 'valid',
      },
      {
        document: 0,
        file: 'b.yaml',
        findings: [
          {
            column: 3,
            line: 7,
            message: 'metadata.uid is ignored: the kubelet generates it',
            path: '/metadata/uid',
            rule: 'static-pod/overwritten-field',
            severity: 'warning',
          },
        ],
        kind: 'Pod',
        name: 'b',
        status: 'valid',
      },
    ],
    summary: {
      documents: 2, errors: 0, files: 2, invalid: 0, valid: 2,
    },
  }
}
