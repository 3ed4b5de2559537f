import {includeIgnoreFile} from '@eslint/compat'
import oclif from 'eslint-config-oclif'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const gitignorePath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '.gitignore')

export default [
  includeIgnoreFile(gitignorePath),
  {ignores: ['schemas/**', 'bench/out/**']},
  ...oclif,
]
