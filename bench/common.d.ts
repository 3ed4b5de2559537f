// Types of bench/common.js for the TypeScript bench scripts (run with tsx).
export const root: string
export const runJs: string
export function missingCli(): string | undefined
export function benchEnv(): NodeJS.ProcessEnv
export function median(values: number[]): number
export function saveResult(name: string, data: Record<string, unknown>): string
