/**
 * Retries `check` until it returns without throwing, or the time is up: for what a kubelet, a
 * container runtime or an API server does a moment later. The last error says why it never held.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T> | T,
  options: {intervalMs?: number; timeoutMs?: number} = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let last: unknown
  for (;;) {
    try {
      // eslint-disable-next-line no-await-in-loop -- one try at a time, by design
      return await check()
    } catch (error) {
      last = error
    }

    if (Date.now() > deadline) throw new Error(`${what}: ${(last as Error)?.message ?? String(last)}`)
    // eslint-disable-next-line no-await-in-loop -- waiting between tries
    await new Promise(resolve => {
      setTimeout(resolve, options.intervalMs ?? 100)
    })
  }
}
