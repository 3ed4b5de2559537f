/** A counting semaphore: at most `limit` holders at once, the others wait in FIFO order. */
export class Semaphore {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer, not ${limit}`)
  }

  /** Holders right now. */
  get inUse(): number {
    return this.active
  }

  async acquire(): Promise<() => void> {
    if (this.active < this.limit) this.active++
    else await new Promise<void>(resolve => {
      this.waiting.push(resolve)
    })

    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }

  /** Run fn while holding a slot. */
  async use<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire()
    try {
      return await fn()
    } finally {
      release()
    }
  }
}
