/**
 * Confirmation for the kubelet commands that change a node: asked on the terminal (stderr), refused
 * when standard input is not a terminal unless --yes was given (docs/design.md "Global flags").
 */
import {createInterface} from 'node:readline'

import {UserError} from '../errors.js'

export async function confirmKubelet(question: string, options: {dryRunHint: boolean}): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UserError('standard input is not a terminal, so staticpod cannot ask for confirmation', {
      hints: [`Pass --yes to go ahead without asking${options.dryRunHint ? ', or --dry-run to see the diff first' : ''}.`],
    })
  }

  const rl = createInterface({input: process.stdin, output: process.stderr})
  const answer = await new Promise<string>(resolve => {
    rl.question(`${question} [y/N] `, resolve)
  }).finally(() => rl.close())
  if (!/^y(es)?$/i.test(answer.trim())) throw new UserError('nothing was changed', {exitCode: 1})
}
