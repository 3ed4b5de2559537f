/**
 * The flags of `staticpod validate`, as plain data: the oclif command builds its flags from them, and
 * the fast path (bin/run.js → src/cli/fast-validate.ts) parses them with node:util without loading
 * oclif. One definition, two parsers.
 */
export const VALIDATE_FLAGS = {
  format: {
    char: 'f',
    default: 'text',
    description: 'Output format.',
    options: ['text', 'json', 'junit', 'sarif'],
    type: 'string',
  },
  ignore: {
    description: 'Leave out a rule (e.g. dir/subdirectory) or a whole category (dir, api, static-pod). Repeatable.',
    multiple: true,
    type: 'string',
  },
  'node-name': {
    description: 'The node the manifests are for: checks that the mirror pod name <name>-<node> is valid.',
    type: 'string',
  },
  quiet: {char: 'q', description: 'Print errors only, and nothing when every manifest is valid.', type: 'boolean'},
  schema: {
    description:
      'Use this Pod JSON schema instead of the built-in one (e.g. a standalone-strict pod-v1.json of another Kubernetes version).',
    type: 'file',
  },
} as const

export interface ValidateFlags {
  format: string
  ignore?: string[]
  'node-name'?: string
  quiet: boolean
  schema?: string
}
